"""Smoke: the mount comes up and shows the seeded tree."""

from util import read, run


def test_ls_publishers_lists_seeded_publishers(mnt):
    out = run(["ls", mnt.p("publishers")], check=True).stdout.split()
    assert out == ["contoso", "fabrikam", "northwind"]


def test_cat_status_shows_offer_status_word(mnt):
    assert read(mnt.offer("contoso-vm", "status")) == "succeeded\n"
