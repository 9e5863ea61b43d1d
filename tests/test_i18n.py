"""Language switching: French, Dutch and English, remembered for members."""

from django.urls import reverse

from members.models import Member


def test_switching_language_sets_the_cookie_and_translates_pages(client, member, settings):
    client.force_login(member.user)
    response = client.post(reverse("set_language"), {"language": "nl", "next": "/profile/"})
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"
    page = client.get(reverse("members:dashboard"))
    assert page["Content-Language"] == "nl"
    assert '<html lang="nl">' in page.content.decode()
    assert Member.objects.get(pk=member.pk).preferred_language == "nl"


def test_member_language_applies_when_no_choice_was_made(client, member):
    del client.cookies["coop_language"]
    Member.objects.filter(pk=member.pk).update(preferred_language="nl")
    client.force_login(member.user)
    response = client.get(reverse("members:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "nl"


def test_unknown_language_is_ignored(client, member):
    client.force_login(member.user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert Member.objects.get(pk=member.pk).preferred_language == "fr"


def test_external_next_url_is_not_followed(client, db):
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_french_and_dutch_pages_are_translated(client, db):
    del client.cookies["coop_language"]
    french = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    dutch = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Se connecter" in french or "Connexion" in french
    assert "Aanmelden" in dutch
