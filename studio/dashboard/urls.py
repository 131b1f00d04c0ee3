from django.urls import path

from studio.dashboard import datasets, jobs, views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("switch/", views.switch_profile, name="switch"),
    path("domain/", views.domain, name="domain"),
    path("datasets/", datasets.dataset_list, name="datasets"),
    path("datasets/<str:domain_id>/<str:name>/", datasets.dataset_detail, name="dataset"),
    path(
        "datasets/<str:domain_id>/<str:name>/delete/",
        datasets.dataset_delete,
        name="dataset_delete",
    ),
    path(
        "datasets/<str:domain_id>/<str:name>/files/<path:file>",
        datasets.dataset_download,
        name="dataset_download",
    ),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/new/", jobs.job_new, name="job_new"),
    path("jobs/<str:name>/", jobs.job_detail, name="job"),
    path("jobs/<str:name>/stop/", jobs.job_stop, name="job_stop"),
    path("jobs/<str:name>/logs/<str:host>.log", jobs.job_log, name="job_log"),
    path("jobs/<str:name>/artifacts/<str:artifact>", jobs.job_artifact, name="job_artifact"),
]
