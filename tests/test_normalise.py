"""stable_text: what a stored text keeps when a library, the machine or the run changes.

The inputs are the real messages of the libraries hitl-sim records (pydantic, LangGraph,
LangChain), made here by the installed versions, plus one message recorded from pydantic 2.13,
so the same error normalises to the same text whichever pydantic CI resolved. Below them, the
rules by which secret values are masked in text, each with the string it used to leak.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal, TypedDict

import pydantic
import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.errors import GraphRecursionError, InvalidUpdateError
from langgraph.graph import END, START, StateGraph

from hitl_sim.normalise import Normaliser, message_text, stable_text

PYDANTIC_2_13_UNION_TAG = (
    "1 validation error for tagged-union[ApproveDecision,RejectDecision]\n"
    "  Input tag 'maybe' found using 'type' does not match any of the expected tags: "
    "'approve', 'reject' [type=union_tag_invalid, input_value={'type': 'maybe'}, "
    "input_type=dict]\n"
    "    For further information visit https://errors.pydantic.dev/2.13/v/union_tag_invalid"
)


class ApproveDecision(pydantic.BaseModel):
    type: Literal["approve"]


class RejectDecision(pydantic.BaseModel):
    type: Literal["reject"]


def union_tag_error() -> str:
    union = Annotated[ApproveDecision | RejectDecision, pydantic.Field(discriminator="type")]
    with pytest.raises(pydantic.ValidationError) as caught:
        pydantic.TypeAdapter(union).validate_python({"type": "maybe"})
    return str(caught.value)


def test_a_pydantic_error_is_the_same_text_on_every_pydantic_version() -> None:
    live = union_tag_error()
    assert f"errors.pydantic.dev/{pydantic.VERSION.rsplit('.', 1)[0]}/" in live
    assert stable_text(live) == stable_text(PYDANTIC_2_13_UNION_TAG)
    assert stable_text(live).endswith(
        "For further information visit https://errors.pydantic.dev/<version>/v/union_tag_invalid"
    )


def test_a_tool_argument_error_keeps_its_meaning_without_the_version() -> None:
    @tool
    def send(to: str, count: int) -> str:
        """Send."""
        return to

    with pytest.raises(pydantic.ValidationError) as caught:
        send.invoke({"to": "a", "count": "many"})

    assert stable_text(str(caught.value)) == (
        "1 validation error for send\ncount\n  Input should be a valid integer, unable to parse "
        "string as an integer [type=int_parsing, input_value='many', input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev/<version>/v/int_parsing"
    )


class State(TypedDict):
    x: int


def test_a_langgraph_error_loses_the_address_and_keeps_its_troubleshooting_link() -> None:
    graph = StateGraph(State)
    graph.add_node("bad", lambda state: object())
    graph.add_edge(START, "bad")
    graph.add_edge("bad", END)

    with pytest.raises(InvalidUpdateError) as caught:
        graph.compile().invoke({"x": 1})

    assert " at 0x" in str(caught.value)
    assert stable_text(str(caught.value)) == (
        "Expected dict, got <object object at 0x…>\nFor troubleshooting, visit: "
        "https://docs.langchain.com/oss/python/langgraph/errors/INVALID_GRAPH_NODE_RETURN_VALUE"
    )


def test_a_message_with_nothing_unstable_is_left_as_it_is() -> None:
    graph = StateGraph(State)
    graph.add_node("again", lambda state: {"x": state["x"] + 1})
    graph.add_edge(START, "again")
    graph.add_conditional_edges("again", lambda state: "again")

    with pytest.raises(GraphRecursionError) as caught:
        graph.compile().invoke({"x": 1}, {"recursion_limit": 3})

    assert stable_text(str(caught.value)) == str(caught.value)


def test_folders_of_this_machine_become_placeholders(tmp_path: object) -> None:
    here = os.path.join(os.getcwd(), "scenarios", "a.yaml")
    text = f"{pydantic.__file__} | {os.__file__} | {here} | {tmp_path}/s.yaml"

    assert stable_text(text) == (
        "<site-packages>/pydantic/__init__.py | <stdlib>/os.py | <cwd>/scenarios/a.yaml"
        f" | <tmp>/{os.path.basename(str(tmp_path))}/s.yaml"
    )


@pytest.mark.parametrize(
    ("text", "stable"),
    [
        (
            "needs pydantic 2.14.4 and langchain-core==1.8.3",
            "needs pydantic <version> and langchain-core==<version>",
        ),
        ("Python 3.11.7 on linux", "Python <version> on linux"),
        ("took 0.234s, then 12.50 ms", "took <duration>, then <duration>"),
        ("the reviewer answered after 300 s", "the reviewer answered after 300 s"),
        ("/tmp/cache, /root/.ssh and /usr/bin/rm", "/tmp/cache, /root/.ssh and /usr/bin/rm"),
        ("wallet 0xdeadbeefcafe", "wallet 0xdeadbeefcafe"),
        ("version 1.2.3 of the app", "version 1.2.3 of the app"),
    ],
)
def test_only_what_varies_is_replaced(text: str, stable: str) -> None:
    assert stable_text(text) == stable


def test_the_normaliser_applies_it_to_every_string_it_emits() -> None:
    norm = Normaliser()
    data = norm.plain({"error": ValueError("see https://errors.pydantic.dev/2.9/v/missing")})

    assert norm.finish(data) == {
        "error": "ValueError: see https://errors.pydantic.dev/<version>/v/missing"
    }


def test_a_message_text_is_its_text_parts_whatever_the_content_shape():
    blocks = [
        {"type": "text", "text": "with reason: keep b"},
        {"type": "tool_use", "id": "call_1", "name": "rm", "input": {"path": "/b"}},
        "and a plain part",
        {"type": "image", "url": "https://example.com/x.png"},
    ]

    assert message_text(ToolMessage(content=blocks, tool_call_id="call_1")) == (
        "with reason: keep b\nand a plain part"
    )
    assert message_text(AIMessage(content="done")) == "done"
    assert message_text(blocks[:1]) == "with reason: keep b"
    assert message_text(7) == "7"


# The masking of secrets in text: every rule has the real leaked string (masked here, leaked by
# the redactor before it masked values to their end) and a readable twin that must stay as it is.

GITHUB_PAT = "ghp_R3alLookingGithubPAT0123456789abcd"
AWS_SIGNATURE = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
AWS_HEADER = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
    f"SignedHeaders=host;range;x-amz-date, Signature={AWS_SIGNATURE}"
)
DIGEST_HEADER = (
    'Digest username="Mufasa", realm="testrealm@host.com", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", '
    'response="6629fae49393a05397450978507c4ef1"'
)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # a header's value is everything after the colon; a known scheme word stays readable
        (f"> Authorization: token {GITHUB_PAT}", "> Authorization: token ***"),
        (f"Authorization: {AWS_HEADER}", "Authorization: AWS4-HMAC-SHA256 ***"),
        (f"Authorization: {DIGEST_HEADER}", "Authorization: Digest ***"),
        (f"Proxy-Authorization: token {GITHUB_PAT}", "Proxy-Authorization: token ***"),
        # an unknown scheme is masked with its credential: the list of schemes is cosmetic
        (f"Authorization: Splunk {GITHUB_PAT} trailing", "Authorization: ***"),
        (f"Authorization: {GITHUB_PAT}", "Authorization: ***"),
        # a header quoted whole ends at its closing quote, a repr'd line at its `\n` escape
        (
            f"curl -H 'Authorization: token {GITHUB_PAT}' https://api.github.com/user",
            "curl -H 'Authorization: token ***' https://api.github.com/user",
        ),
        (
            f"content='> GET /user\\n> Authorization: token {GITHUB_PAT}\\n< HTTP/1.1 200 OK'",
            "content='> GET /user\\n> Authorization: token ***\\n< HTTP/1.1 200 OK'",
        ),
        (
            f'{{"log": "Authorization: {DIGEST_HEADER.replace(chr(34), chr(92) + chr(34))}"}}',
            '{"log": "Authorization: Digest ***"}',
        ),
        # `key: value`, `key = value`, `key => value` (YAML, INI, Perl/Ruby): the rest of the line
        ("api_key => pk-live-5e4d3c2b1a", "api_key => ***"),
        ("password: two words\nuser: ann", "password: ***\nuser: ann"),
        ("passphrase = correct horse battery staple", "passphrase = ***"),
        ('token: str = "tok-9f8e7d6c"', "token: ***"),
        # `key=value` (logfmt, a query string): one token, with its credential after a scheme word
        (f"auth=token {GITHUB_PAT} user=ann", "auth=token *** user=ann"),
        (f"authorization={AWS_HEADER} status=403", "authorization=AWS4-HMAC-SHA256 *** status=403"),
        ("GET /cb?access_token=tok-1234abcd&page=2", "GET /cb?access_token=***&page=2"),
        # a secret pair inside the value of another key, quoted or not
        ("note: password=hunter22", "note: password=***"),
        ("redirect=https://app.example/cb?token=tok-1234abcd", "redirect=https://app.example/cb?token=***"),
        ("password='it\\'s a secret', user='ann'", "password='***', user='ann'"),
    ],
)  # fmt: skip
def test_a_secret_value_in_text_is_masked_to_its_end(text: str, masked: str) -> None:
    assert Normaliser().redactor.text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "token count: 5 words",  # the key is `count`
        "max_tokens: 5, tokens=12",
        "the token expired; see the auth docs",
        "password: None",
        "token=null retries=3",
        "def login(user: str, password: str) -> str:",
        "Authorization: Bearer ***",
        "GET /search?q=hitl&page=2",
        "api_key: ***",
    ],
)
def test_ordinary_text_near_a_secret_word_stays_readable(text: str) -> None:
    assert Normaliser().redactor.text(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # a bare `key=value` value is one token: what follows it is the next pair or prose
        (
            "level=info password=swordfish attempt=2 user=bob",
            "level=info password=*** attempt=2 user=bob",
        ),
        ("client_secret=cs-77aa12bb34 saved.", "client_secret=*** saved."),
        ("api_key=sk-x1, X-Api-Key: 'k-42'", "api_key=***, X-Api-Key: '***'"),
        (
            "Authorization: Bearer eyJ.abc.def\nAccept: json",
            "Authorization: Bearer ***\nAccept: json",
        ),
    ],
)
def test_only_the_secret_value_is_masked(text: str, masked: str) -> None:
    assert Normaliser().redactor.text(text) == masked


def test_the_pieces_of_a_credential_found_in_text_are_masked_where_echoed() -> None:
    norm = Normaliser()
    data = norm.plain(
        {
            "result": f"> Authorization: token {GITHUB_PAT}\n> Authorization: {AWS_HEADER}",
            "config": "passphrase = correct horse battery staple",
            "said": f"used {GITHUB_PAT}, signed {AWS_SIGNATURE}; correct horse battery staple",
        }
    )
    assert norm.finish(data) == {
        "config": "passphrase = ***",
        "result": "> Authorization: token ***\n> Authorization: AWS4-HMAC-SHA256 ***",
        "said": "used ***, signed ***; ***",
    }
