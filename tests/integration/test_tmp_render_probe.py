import pytest
from tests.integration.test_admin_console import console, url, two_domains, alice_admin, carol_admin, finance  # noqa
from domains import services
from domains.models import UserProfile

pytestmark = pytest.mark.django_db(transaction=True)

def test_probe(two_domains, alice, root):
    research, finance = two_domains
    bob = UserProfile.objects.get(name="bob")
    key, _ = services.create_access_key(root, research.domain_id, "bob")
    pol = research.policies.get()
    for who in (root, alice):
        c = console(who)
        for page in [url("domain","changelist"), url("domain","change",research.pk), url("userprofile","changelist"),
                     url("userprofile","change",bob.pk), url("userprofile","add"), url("policy","add"), url("policy","change",pol.pk),
                     url("policy","changelist"), url("accesskey","changelist"), url("accesskey","change",key.pk),
                     url("userprofile","delete",bob.pk), url("policy","delete",pol.pk), "/admin/"] + ([url("domain","add"), url("domain","delete",research.pk)] if who is root else []):
            r = c.get(page)
            print(who, page, r.status_code)
            assert r.status_code == 200, (page, r.content[:3000])
        r = c.get(url("domain","change",research.pk))
        open(f"/tmp/domain_change_{who}.html","w").write(r.content.decode())
        r = c.post(url("domain","changelist"), {"action":"add_profiles","_selected_action":[research.pk],"index":0})
        open(f"/tmp/add_profiles_{who}.html","w").write(r.content.decode())
        assert r.status_code == 200
