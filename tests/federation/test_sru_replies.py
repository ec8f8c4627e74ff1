"""Reading SRU peers' replies: recorded NDL Search replies (dcndl RDF as escaped strings), MARCXML and
Dublin Core in both SRU versions, surrogate and fatal diagnostics, and replies that are not SRU at all."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoka.federation.sru_replies import UnparseableReply, isbns_in, parse_search_retrieve

MARC_RECORD = """<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00366nam a22001698a 4500</leader>
<controlfield tag="001">  JP123 </controlfield>
<controlfield tag="008">910710s1991    ja            000 0 jpn  </controlfield>
<datafield tag="020" ind1=" " ind2=" "><subfield code="a">4-7949-7075-7 (pbk.) : 1600円</subfield></datafield>
<datafield tag="100" ind1="1" ind2=" "><subfield code="a">萩野, 正昭,</subfield></datafield>
<datafield tag="245" ind1="1" ind2="0"><subfield code="a">これからの本の話をしよう /</subfield></datafield>
<datafield tag="260" ind1=" " ind2=" "><subfield code="b">晶文社</subfield><subfield code="c">2019.6</subfield></datafield>
</record>"""


def sru12(records: str, total: int = 1, extra: str = "") -> bytes:
    return (f'<zs:searchRetrieveResponse xmlns:zs="http://www.loc.gov/zing/srw/"><zs:version>1.2</zs:version>'
            f"<zs:numberOfRecords>{total}</zs:numberOfRecords><zs:records>{records}</zs:records>{extra}"
            "</zs:searchRetrieveResponse>").encode()


def test_marcxml_records(tmp_path):
    reply = parse_search_retrieve(sru12(f"<zs:record><zs:recordSchema>marcxml</zs:recordSchema>"
                                        f"<zs:recordData>{MARC_RECORD}</zs:recordData></zs:record>"))
    assert reply.total == 1 and len(reply.records) == 1
    book = reply.records[0]
    assert (book.title, book.authors, book.year, book.isbns, book.record_id) == (
        "これからの本の話をしよう", ["萩野, 正昭"], 2019, ["9784794970756"], "JP123")


def test_sru_2_0_with_escaped_records_and_surrogate_diagnostics():
    escaped = MARC_RECORD.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = ('<searchRetrieveResponse xmlns="http://docs.oasis-open.org/ns/search-ws/sruResponse">'
            "<numberOfRecords>2</numberOfRecords><records>"
            f"<record><recordXMLEscaping>string</recordXMLEscaping><recordData>{escaped}</recordData></record>"
            '<record><recordData><diagnostic xmlns="http://www.loc.gov/zing/srw/diagnostic/">'
            "<uri>info:srw/diagnostic/1/63</uri></diagnostic></recordData></record>"
            "</records></searchRetrieveResponse>").encode()
    reply = parse_search_retrieve(body)
    assert [book.title for book in reply.records] == ["これからの本の話をしよう"] and reply.skipped_records == 1


def test_dublin_core_records():
    dc = ('<srw_dc:dc xmlns:srw_dc="info:srw/schema/1/dc-schema" xmlns:dc="http://purl.org/dc/elements/1.1/">'
          "<dc:title>銀河鉄道の夜</dc:title><dc:creator>宮沢 賢治</dc:creator><dc:date>1989-06</dc:date>"
          "<dc:identifier>urn:isbn:4-10-109205-2</dc:identifier>"
          "<dc:identifier>https://lib.example/bibs/9</dc:identifier>"
          "</srw_dc:dc>")
    book = parse_search_retrieve(sru12(f"<zs:record><zs:recordData>{dc}</zs:recordData></zs:record>")).records[0]
    assert (book.title, book.authors, book.year, book.isbns, book.url) == (
        "銀河鉄道の夜", ["宮沢 賢治"], 1989, ["9784101092058"], "https://lib.example/bibs/9")


def test_recorded_ndl_search_replies(shared_data):
    replies = sorted((shared_data / "ndl_dcndl").glob("sru__*.xml"))
    assert len(replies) >= 20
    for path in replies:
        parse_search_retrieve(path.read_bytes())  # every recorded reply reads without failing
    reply = parse_search_retrieve((shared_data / "ndl_dcndl" /
                                   "sru__NdlBook__import__should_import_bibliographic_record__0.xml").read_bytes())
    book = reply.records[0]
    assert book.title.startswith("プログラミングコンテストチャレンジブック")
    assert book.isbns == ["9784839931995"] and book.year == 2010 and "秋葉, 拓哉" in book.authors
    assert "毎日コミュニケーションズ" not in book.authors  # the publisher's foaf:name is not a creator


def test_fatal_diagnostics_are_reported():
    body = sru12("", total=0, extra='<zs:diagnostics><diagnostic xmlns="http://www.loc.gov/zing/srw/diagnostic/">'
                                   "<uri>info:srw/diagnostic/1/16</uri><details>dc.x</details>"
                                   "<message>Unsupported index</message></diagnostic></zs:diagnostics>")
    assert parse_search_retrieve(body).diagnostics == ["SRU diagnostic 16: Unsupported index (dc.x)"]


@pytest.mark.parametrize("body", [b"", b"<html><body>Service Unavailable</body></html>", b"{\"total\": 1}",
                                  b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"])
def test_what_is_not_sru_is_unparseable(body):
    with pytest.raises(UnparseableReply):
        parse_search_retrieve(body)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_reader(body):
    try:
        parse_search_retrieve(body)
    except UnparseableReply:
        pass


def test_isbns_in_catalogue_text():
    assert isbns_in("ISBN 978-4-10-109205-8 (文庫) ; 4-7949-7075-7") == ["9784101092058", "9784794970756"]
    assert isbns_in("4-7949-7075-8") == []  # a wrong check digit is not an ISBN
