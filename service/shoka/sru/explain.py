"""The explain record (ZeeRex 2.0, http://explain.z3950.org/dtd/2.0/): what a client needs to talk to this
server: where it is, the indexes with their relations, the record schemas and the paging limits."""

from __future__ import annotations

from shoka.sru import xml_text
from shoka.sru.library_identity import FALLBACK_NAME, LibraryName
from shoka.sru.parameters import DEFAULT_MAXIMUM_RECORDS, LARGEST_MAXIMUM_RECORDS, SruVersion
from shoka.sru.query_translation import CONTEXT_SETS, SUPPORTED_INDEXES
from shoka.sru.records import DEFAULT_SCHEMA, SCHEMAS

ZEEREX_NAMESPACE = "http://explain.z3950.org/dtd/2.0/"
ZEEREX_SCHEMA_IDENTIFIER = "http://explain.z3950.org/dtd/2.0/"
DATABASE_PATH = "sru"


def _index_xml(index) -> str:
    relations = "".join(f'<supports type="relation">{xml_text.text(relation)}</supports>'
                        for relation in index.relations)
    return (f'<index search="true" id="{xml_text.attribute(f"{index.context_set}.{index.name}")}">'
            f'<title lang="ja">{xml_text.text(index.title_ja)}</title>'
            f'<title lang="en">{xml_text.text(index.title_en)}</title>'
            f'<map><name set="{xml_text.attribute(index.context_set)}">{xml_text.text(index.name)}</name></map>'
            f"<configInfo>{relations}</configInfo></index>")


def explain_record(version: SruVersion, host: str, port: int, library: LibraryName) -> str:
    """The ZeeRex record for this server as reached at `host:port`."""
    name_ja = "書架" if library.ja == FALLBACK_NAME else library.ja
    name_en = "Shoka" if library.en == FALLBACK_NAME else library.en
    sets = "".join(f'<set name="{xml_text.attribute(name)}" identifier="{xml_text.attribute(uri)}"/>'
                   for name, uri in CONTEXT_SETS.items())
    indexes = "".join(_index_xml(index) for index in SUPPORTED_INDEXES)
    schemas = "".join(
        f'<schema name="{description.schema.value}" identifier="{xml_text.attribute(description.identifier)}" '
        f'retrieve="true" sort="false"><title>{xml_text.text(description.title)}</title></schema>'
        for description in SCHEMAS.values())
    sort_keys = "".join(f"<sortKeyword>{keyword}</sortKeyword>" for keyword in ("dc.date", "dc.title", "dc.creator"))
    return (f'<explain xmlns="{ZEEREX_NAMESPACE}">'
            f'<serverInfo protocol="SRU" version="{version}" transport="http" method="GET POST">'
            f"<host>{xml_text.text(host)}</host><port>{port}</port><database>{DATABASE_PATH}</database>"
            "</serverInfo>"
            "<databaseInfo>"
            f'<title lang="ja" primary="true">{xml_text.text(name_ja)} 蔵書目録</title>'
            f'<title lang="en">{xml_text.text(name_en)} catalogue</title>'
            '<description lang="ja">図書館の蔵書目録です。書名・著者名・件名・出版者・出版年・ISBN で検索できます。'
            "書名と著者名は読み（カタカナ・ひらがな）でも検索できます。</description>"
            '<description lang="en">The library catalogue: search by title, creator, subject, publisher, year and '
            "ISBN; titles and names also match their Japanese reading.</description>"
            "</databaseInfo>"
            f"<indexInfo>{sets}{indexes}{sort_keys}</indexInfo>"
            f"<schemaInfo>{schemas}</schemaInfo>"
            "<configInfo>"
            f'<default type="numberOfRecords">{DEFAULT_MAXIMUM_RECORDS}</default>'
            f'<setting type="maximumRecords">{LARGEST_MAXIMUM_RECORDS}</setting>'
            '<default type="index">cql.serverChoice</default>'
            '<default type="relation">=</default>'
            f'<default type="retrieveSchema">{DEFAULT_SCHEMA.value}</default>'
            '<supports type="sort">sortBy</supports>'
            '<supports type="relationModifier">relevant</supports>'
            '<supports type="relationModifier">ignoreCase</supports>'
            '<supports type="maskingCharacter">*</supports>'
            "</configInfo>"
            "</explain>")
