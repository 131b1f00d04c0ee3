"""UploadDataset, ListDatasets, DescribeDataset, DeleteDataset; and registering files already
in the store (a processing job's output) as a dataset.

Members of a domain may read every dataset in it and change only their own (domain admins,
any). A dataset's files live in the domain's bucket, `s3://studio-<domain_id>/datasets/<name>/`.
"""

from typing import BinaryIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from domains.models import Domain, StudioStatus, UserProfile
from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from jobs.datasets import inspection, uploads
from jobs.datasets.inspection import TableInfo
from jobs.models import Dataset
from jobs.models.datasets import dataset_prefix
from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from studio.core.events import Event, publish
from studio.core.shapes import validate_name
from studio.core.storage import StoredObject, artifact_store


def _event(dataset: Dataset, kind: str) -> Event:
    return Event(
        kind=kind,
        resource_type=Dataset.RESOURCE_TYPE,
        resource_id=dataset.resource_id,
        groups=dataset.event_groups(),
        data={"name": dataset.name},
    )


def _check_new_name(domain: Domain, name: str) -> None:
    validate_name(name, "EntityName", "DatasetName")
    if Dataset.objects.filter(domain=domain, name=name).exists():
        raise ResourceInUse(f"Dataset {name} already exists in domain {domain.domain_id}.")


def _save(
    domain: Domain, owner: UserProfile, name: str, fmt: str, uri: str, info: TableInfo
) -> Dataset:
    """Insert the row (in the caller's transaction); a name taken meanwhile is ResourceInUse."""
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                domain=domain,
                owner=owner,
                name=name,
                format=fmt,
                s3_uri=uri,
                size_bytes=info.size_bytes,
                row_count=info.row_count,
                columns=info.columns,
                preview=info.preview,
                has_header=info.has_header,
            )
    except IntegrityError:
        raise ResourceInUse(
            f"Dataset {name} already exists in domain {domain.domain_id}."
        ) from None
    publish(_event(dataset, "created"))
    return dataset


def upload_dataset(
    actor: User, domain_id: str, *, name: str, uploaded_file: UploadedFile | None
) -> Dataset:
    """Store an uploaded CSV or Parquet file as dataset `name`, with its preview.

    The upload is inspected where Django received it (a temporary file, or memory for a small
    one) and then copied into the store, never read whole into memory. Whatever fails
    (validation, a name taken meanwhile, the database), neither the object nor the row is
    left behind.
    """
    domain = get_domain(actor, domain_id)
    owner = authorize(actor, "studio:UploadDataset", domain=domain)
    if owner is None:
        raise ValidationException(
            "Datasets belong to a user profile; create one for yourself in this domain first.",
            "UserProfile",
        )
    if domain.status != StudioStatus.IN_SERVICE:
        raise ResourceInUse(f"Domain {domain_id} is {domain.status}; wait until InService.")
    _check_new_name(domain, name)
    if uploaded_file is None or not uploaded_file.name:
        raise ValidationException("Choose a .csv or .parquet file to upload.", "File")
    fmt = uploads.file_format(uploaded_file.name)
    if uploaded_file.size > settings.STUDIO_MAX_UPLOAD_BYTES:
        raise uploads.too_large(uploaded_file.name, settings.STUDIO_MAX_UPLOAD_BYTES)
    prefix = dataset_prefix(domain.domain_id, name)
    uri = prefix + uploads.safe_file_name(uploaded_file.name, fmt)
    info = inspection.inspect(uploaded_file.file, fmt, uploaded_file.name)
    store = artifact_store()
    stored = False
    try:
        with transaction.atomic():
            dataset = _save(domain, owner, name, fmt, uri, info)
            uploaded_file.file.seek(0)
            store.put(uri, uploaded_file.file)
            stored = True
    except BaseException:
        if stored:  # the object is in place but the transaction did not commit
            store.delete(prefix)
        raise
    return dataset


def register_dataset(
    actor_profile: UserProfile,
    domain: Domain,
    name: str,
    uri: str,
    suffixes: dict[str, str] | None = None,
) -> Dataset:
    """Make the files already at `uri` (an object or a prefix) a dataset, in place; files with
    `suffixes` (suffix to format) count as tables of that format too.

    For the worker, when a processing or transform job's output should become a dataset: the
    job's creator was authorized when the job was created, so this checks no policy. The files
    stay where they are and stay when the dataset is deleted (they are the job's output).
    """
    _check_new_name(domain, name)
    store = artifact_store()
    objects = {o.name: o for o in store.list(uri)}
    if not objects:
        raise ValidationException(f"No files at {uri}.", "S3Uri")
    fmt, info = inspection.inspect_files(
        list(objects), lambda file: store.open(objects[file].uri), uri, suffixes
    )
    with transaction.atomic():
        return _save(domain, actor_profile, name, fmt, uri, info)


def list_datasets(actor: User, domain_id: str) -> QuerySet[Dataset]:
    domain = get_domain(actor, domain_id)
    authorize(actor, "studio:ListDatasets", domain=domain)
    return Dataset.objects.filter(domain=domain).select_related("owner", "domain").order_by("name")


def _get_dataset(actor: User, domain_id: str, name: str) -> Dataset:
    domain = get_domain(actor, domain_id)
    validate_name(name, "EntityName", "DatasetName")
    dataset = (
        Dataset.objects.select_related("domain", "owner").filter(domain=domain, name=name).first()
    )
    if dataset is None:
        raise ResourceNotFound(f"Dataset {name} does not exist in domain {domain_id}.")
    return dataset


def describe_dataset(actor: User, domain_id: str, name: str) -> Dataset:
    dataset = _get_dataset(actor, domain_id, name)
    authorize(actor, "studio:DescribeDataset", domain=dataset.domain, owner=dataset.owner)
    return dataset


def dataset_files(dataset: Dataset) -> list[StoredObject]:
    """The objects a dataset the caller has described is made of, named relative to its URI."""
    return artifact_store().list(dataset.s3_uri)


def open_dataset_file(actor: User, domain_id: str, name: str, file: str | None = None) -> BinaryIO:
    """A stream of one of a dataset's files, for downloading it (DescribeDataset's
    permission): `file` as the dataset page lists it, or the first when not given."""
    dataset = describe_dataset(actor, domain_id, name)
    for stored in dataset_files(dataset):
        if file is None or stored.name == file:
            return artifact_store().open(stored.uri)
    raise ResourceNotFound(
        f"Dataset {name} has no file {file}."
        if file
        else f"Dataset {name} has no files in the store."
    )


def delete_dataset(actor: User, domain_id: str, name: str) -> None:
    """Delete the dataset and, for an uploaded one, its files (once the row is gone)."""
    dataset = _get_dataset(actor, domain_id, name)
    authorize(actor, "studio:DeleteDataset", domain=dataset.domain, owner=dataset.owner)
    prefix = dataset.managed_prefix if dataset.is_managed else None
    event = _event(dataset, "deleted")
    with transaction.atomic():
        dataset.delete()
        publish(event)
        if prefix is not None:
            transaction.on_commit(lambda: artifact_store().delete(prefix))
