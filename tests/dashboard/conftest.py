import pytest


@pytest.fixture
def known(db):
    from tests.dashboard.data import make_known_data

    return make_known_data()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
