def test_domain_becomes_in_service_through_the_worker(domain):
    assert domain.status == "InService"
    assert domain.home_volume.is_dir()
