"""The console's shared base, for domains' pages and jobs' alike: `ServiceForm`, whose save is
a service call; `ServiceModelAdmin`, whose actions and deletes are service calls; read-only
inlines; and the status badge.

A `ServiceForm` runs its service when it validates, in place of ModelForm's model validation:
the service checks and writes in one transaction, so its verdict is the one that counts, and a
StudioError it raises lands on the form field it names instead of becoming a 500.
"""

import re
from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from domains.admin.scope import DomainScopedMixin
from domains.models import StudioStatus
from studio.core.errors import ResourceInUse, StudioError, ValidationException

admin.site.site_header = "Studio administration"
admin.site.site_title = "Studio admin"
admin.site.index_title = "Domains, user profiles and policies"

_TONES = {
    StudioStatus.IN_SERVICE: "ok",
    StudioStatus.PENDING: "busy",
    StudioStatus.UPDATING: "busy",
    StudioStatus.DELETING: "busy",
    StudioStatus.FAILED: "bad",
    StudioStatus.UPDATE_FAILED: "bad",
    StudioStatus.DELETE_FAILED: "bad",
    "Active": "ok",
    "Inactive": "off",
}


def badge(text: str, tone: str | None = None) -> SafeString:
    """A status pill; the colours live in static/studio/admin.css."""
    return format_html(
        '<span class="studio-badge studio-badge-{}">{}</span>',
        tone or _TONES.get(text, "off"),
        text,
    )


def one_per_line(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ServiceForm(forms.ModelForm):
    """A ModelForm whose save is `perform()`, a service call made as the signed-in user."""

    # Set per request by the ModelAdmin (`get_form`), on the class it builds for that request.
    actor: Any = None
    # A SageMaker parameter named in a ValidationException path → the form field showing it.
    service_fields: ClassVar[dict[str, str]] = {}
    # The field a ResourceInUse (a duplicate name) belongs to; None makes it a form-wide error.
    in_use_field: ClassVar[str | None] = None

    def perform(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def field_for(self, error: StudioError) -> str | None:
        if isinstance(error, ValidationException) and error.field:
            # Most specific first: "...DefaultResourceSpec.InstanceType" is the instance type.
            for part in reversed(re.split(r"[.\[\] ]+", error.field)):
                if part in self.service_fields and self.service_fields[part] in self.fields:
                    return self.service_fields[part]
        if isinstance(error, ResourceInUse) and self.in_use_field in self.fields:
            return self.in_use_field
        return None

    def _post_clean(self) -> None:
        if self._errors:
            return
        try:
            # Anything perform() writes besides the service's own work (a new user account)
            # is undone with it when the service refuses.
            with transaction.atomic():
                self.instance = self.perform(self.cleaned_data)
        except StudioError as error:
            self.add_error(self.field_for(error), error.message)

    def save(self, commit: bool = True) -> models.Model:
        """The service has already written everything, many-to-many links included."""
        if self.errors:
            raise ValueError("The form did not validate, so the service made no change.")
        self.save_m2m = lambda: None
        return self.instance


class ServiceModelAdmin(DomainScopedMixin, admin.ModelAdmin):
    """A ModelAdmin whose forms and actions call services (see `ServiceForm`)."""

    add_form: type[forms.Form] | None = None
    add_fieldsets: Any = None
    change_readonly_fields: tuple[str, ...] = ()

    def get_form(
        self, request: HttpRequest, obj: models.Model | None = None, **kwargs: Any
    ) -> type[forms.Form]:
        if obj is None and self.add_form is not None:
            kwargs.setdefault("form", self.add_form)
        form = super().get_form(request, obj, **kwargs)
        # modelform_factory made this class for this request alone.
        form.actor = request.user
        return form

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if obj is None and self.add_fieldsets is not None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(
        self, request: HttpRequest, obj: models.Model | None = None
    ) -> tuple[str, ...]:
        return () if obj is None else self.change_readonly_fields

    def get_inlines(self, request: HttpRequest, obj: models.Model | None) -> list:
        # Inlines only show rows (they are read-only); with nothing of theirs to save, a POST
        # is the form alone, so a stale inline management form cannot fail a saved change.
        if obj is None or request.method == "POST":
            return []
        return super().get_inlines(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing to do: the form's service call has already saved the object."""

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # Django's bulk delete bypasses the services; each admin offers its own delete action.
        actions.pop("delete_selected", None)
        return actions

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        """The change page's Delete button: the same confirmation as the delete action."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id {object_id} here.")
        if not self.has_delete_permission(request, obj):
            raise PermissionDenied
        return self.delete_objects(request, self.get_queryset(request).filter(pk=obj.pk))

    def delete_objects(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        """Each admin's delete action, made with `delete_each`."""
        raise NotImplementedError

    def confirm(
        self,
        request: HttpRequest,
        queryset: models.QuerySet,
        *,
        action: str,
        title: str,
        question: str,
        button: str,
        form: forms.Form | None = None,
    ) -> TemplateResponse:
        """An intermediate page that posts the action back to the changelist, confirmed."""
        return TemplateResponse(
            request,
            "admin/domains/confirm_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "question": question,
                "button": button,
                "form": form,
                "opts": self.opts,
                "queryset": queryset,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "changelist_url": reverse(admin_urlname(self.opts, "changelist")),
            },
        )

    def delete_each(
        self,
        request: HttpRequest,
        queryset: models.QuerySet,
        delete: Callable[..., object],
        *,
        title: str,
        question: str,
        button: str,
        done: str = "Deleted",
        options: type[forms.Form] | None = None,
    ) -> TemplateResponse | None:
        """A delete action: the confirmation page (with the form `options`, if any) until it is
        posted back valid, then `delete(obj, **chosen_options)` for each object (`run_each`).

        `done` is formatted with the chosen options too, so the message can say what they were."""
        posted = "post" in request.POST
        form = options(request.POST if posted else None) if options else None
        if not posted or (form is not None and not form.is_valid()):
            return self.confirm(
                request,
                queryset,
                action="delete_objects",
                title=title,
                question=question,
                button=button,
                form=form,
            )
        chosen = form.cleaned_data if form is not None else {}
        self.run_each(request, queryset, lambda obj: delete(obj, **chosen), done.format(**chosen))
        return None

    def run_each(
        self,
        request: HttpRequest,
        queryset: models.QuerySet,
        call: Callable[[Any], object],
        done: str,
    ) -> None:
        """Call a service for each selected object; each refusal is reported, not raised."""
        names = []
        for obj in queryset:
            try:
                with transaction.atomic():
                    call(obj)
            except StudioError as error:
                self.message_user(request, f"{obj}: {error.message}", messages.ERROR)
            else:
                names.append(str(obj))
        if names:
            self.message_user(request, f"{done}: {', '.join(names)}.", messages.SUCCESS)
        elif not queryset.exists():
            self.message_user(request, "Nothing was changed.", messages.WARNING)


class ReadOnlyInline(DomainScopedMixin, admin.TabularInline):
    """Rows shown on the parent's page; edits happen on their own change pages."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False
