from django.urls import path

from studio.web.dashboard import (
    datasets,
    endpoint_pages,
    hosted_model_pages,
    jobs,
    keys,
    processing,
    registry_pages,
    spaces,
    views,
    waits,
)

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
    path("keys/", keys.key_list, name="keys"),
    path("keys/<str:key_id>/status/", keys.key_status, name="key_status"),
    path("keys/<str:key_id>/delete/", keys.key_delete, name="key_delete"),
    path("spaces/", spaces.space_list, name="spaces"),
    path("spaces/<str:space_name>/", spaces.space_detail, name="space"),
    path("spaces/<str:space_name>/start/", spaces.space_start, name="space_start"),
    path("spaces/<str:space_name>/stop/", spaces.space_stop, name="space_stop"),
    path("spaces/<str:space_name>/restart/", spaces.space_restart, name="space_restart"),
    path("spaces/<str:space_name>/start-wait/", waits.space_start_wait, name="space_start_wait"),
    path("spaces/<str:space_name>/delete/", spaces.space_delete, name="space_delete"),
    path(
        "spaces/<str:space_name>/instance-type/",
        spaces.space_instance_type,
        name="space_instance_type",
    ),
    path("jobs/", jobs.job_list, name="jobs"),
    # The forms live under new/ and each kind's pages under its own prefix: a job may be
    # named "new", and a training and a processing job may share a name.
    path("jobs/new/training/", jobs.job_new, name="training_job_new"),
    path("jobs/new/processing/", processing.job_new, name="processing_job_new"),
    path("jobs/training/<str:name>/", jobs.job_detail, name="training_job"),
    path("jobs/training/<str:name>/stop/", jobs.job_stop, name="training_job_stop"),
    path("jobs/training/<str:name>/logs/<str:host>.log", jobs.job_log, name="training_job_log"),
    path(
        "jobs/training/<str:name>/artifacts/<str:artifact>",
        jobs.job_artifact,
        name="training_job_artifact",
    ),
    path("jobs/processing/<str:name>/", processing.job_detail, name="processing_job"),
    path("jobs/processing/<str:name>/stop/", processing.job_stop, name="processing_job_stop"),
    path(
        "jobs/processing/<str:name>/logs/<str:host>.log",
        processing.job_log,
        name="processing_job_log",
    ),
    path("models/", hosted_model_pages.model_list, name="models"),
    path("models/<str:name>/", hosted_model_pages.model_detail, name="model"),
    path("models/<str:name>/delete/", hosted_model_pages.model_delete, name="model_delete"),
    # Deploy and Create model take what they start from in the query or the form, so that no
    # model or endpoint name is shadowed by them.
    path("deploy/", endpoint_pages.deploy, name="deploy"),
    path("deploy/model/", hosted_model_pages.model_create, name="model_create"),
    path("registry/", registry_pages.group_list, name="registry"),
    path("registry/<str:name>/", registry_pages.group_detail, name="registry_group"),
    path(
        "registry/<str:name>/<int:version>/decision/",
        registry_pages.version_decide,
        name="registry_decide",
    ),
    path("deploy/register/", registry_pages.register, name="register"),
    path("endpoints/", endpoint_pages.endpoint_list, name="endpoints"),
    path("endpoints/<str:name>/", endpoint_pages.endpoint_detail, name="endpoint"),
    path("endpoints/<str:name>/update/", endpoint_pages.endpoint_update, name="endpoint_update"),
    path("endpoints/<str:name>/weights/", endpoint_pages.endpoint_weights, name="endpoint_weights"),
    path("endpoints/<str:name>/scaling/", endpoint_pages.endpoint_scaling, name="endpoint_scaling"),
    path("endpoints/<str:name>/delete/", endpoint_pages.endpoint_delete, name="endpoint_delete"),
    path(
        "endpoints/<str:name>/metrics.json",
        endpoint_pages.endpoint_metrics,
        name="endpoint_metrics",
    ),
]
