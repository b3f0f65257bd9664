"""Secret argument values are masked in the audit log and in snapshots, wherever they show up."""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import ScriptedChatModel, Spy, approve, call, edit, say, simulate
from hitl_sim.normalise import DEFAULT_REDACTED, MASK, Normaliser, Redactor
from hitl_sim.reporting import AuditLog
from hitl_sim.reporting.diagram import mermaid, svg
from hitl_sim.reporting.snapshots import snapshot_text

SECRET = "sk-live-0123456789"


@tool
def call_api(url: str, headers: dict, api_key: str) -> str:
    """Call an HTTP API."""
    return f"called {url} with key {api_key}"


def api_run(*, edit_key=None):
    model = ScriptedChatModel(
        [
            call(
                "call_api",
                url="https://example.com",
                headers={"Authorization": "Bearer abc.def", "Accept": "json"},
                api_key=SECRET,
            ),
            say("done"),
        ]
    )
    graph = create_agent(
        model,
        tools=[call_api],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"call_api": True})],
        checkpointer=InMemorySaver(),
    )
    decision = edit(api_key=edit_key) if edit_key else approve()
    return simulate(graph, "call it", reviewer=[decision])


def test_secret_values_appear_nowhere_in_the_log_or_the_snapshot():
    run = api_run()
    jsonl, text = run.audit.to_jsonl(), snapshot_text(run)
    for output in (jsonl, text, run.audit.render()):
        assert SECRET not in output
        assert "Bearer abc.def" not in output
    # the tool echoed the key into its result and the middleware into its description
    assert run.executed[0].result is not None
    assert run.audit.of("tool")[0].data["result"] == f"called https://example.com with key {MASK}"
    assert "'api_key': '***'" in run.audit[0].data["actions"][0]["description"]


def test_keys_match_case_insensitively_at_any_depth():
    args = run_args(api_run())
    assert args == {
        "api_key": MASK,
        "headers": {"Accept": "json", "Authorization": MASK},
        "url": "https://example.com",
    }


def run_args(run_or_log):
    log = run_or_log if isinstance(run_or_log, AuditLog) else run_or_log.audit
    return log.of("tool")[0].data["args"]


def test_the_run_record_itself_keeps_the_real_values():
    run = api_run()
    assert run.executed[0].args["api_key"] == SECRET


def test_an_edited_secret_is_masked_in_the_decision_and_the_execution():
    run = api_run(edit_key="sk-rotated-987654")
    decision = run.audit.of("decision")[0].data
    assert decision["args"]["api_key"] == MASK
    assert "sk-rotated-987654" not in run.audit.to_jsonl() + snapshot_text(run)


def test_the_keys_are_configurable():
    run = api_run()
    only_url = AuditLog.from_run(run, redact=("URL",))
    assert run_args(only_url) == {
        "api_key": SECRET,
        "headers": {"Accept": "json", "Authorization": "Bearer abc.def"},
        "url": MASK,
    }
    assert run_args(AuditLog.from_run(run, redact=None))["api_key"] == SECRET
    more = AuditLog.from_run(run, redact=DEFAULT_REDACTED | {"accept"})
    assert run_args(more)["headers"] == {"Accept": MASK, "Authorization": MASK}
    assert snapshot_text(run, redact=("url",)).count(SECRET) > 0


def test_a_key_matches_by_its_words_in_any_spelling():
    norm = Normaliser()
    assert norm.plain({"X-Api-Key": "abcd1234", "api-key": 1, "max_tokens": 5}) == {
        "X-Api-Key": MASK,
        "api-key": MASK,
        "max_tokens": 5,
    }
    assert Normaliser(redact=["x-api-key"]).plain({"X_API_KEY": "v"}) == {"X_API_KEY": MASK}


def test_short_secrets_are_masked_under_their_key_only():
    norm = Normaliser()
    data = norm.finish(norm.plain({"token": "abc", "note": "abc def", "more": {"secret": "zyxw"}}))
    assert data == {"more": {"secret": MASK}, "note": "abc def", "token": MASK}
    assert norm.finish("the zyxw leaked") == "the *** leaked"


def test_a_secret_holding_a_structure_is_masked_whole():
    norm = Normaliser()
    data = norm.finish(
        norm.plain({"secret": {"user": "bob", "pin": "483920"}, "log": "pin 483920"})
    )
    assert data == {"log": "pin ***", "secret": MASK}


def test_a_word_like_raw_id_is_labelled_but_not_replaced_in_text():
    norm = Normaliser()
    assert norm.label("thread", "main") == "thread-1"
    assert norm.label("call", "call_7") == "call-1"
    assert norm.finish("merge main after call_7; call_77 untouched") == (
        "merge main after call-1; call_77 untouched"
    )


def test_secrets_inside_json_strings_and_pairs_in_text_are_masked():
    norm = Normaliser()
    data = norm.finish(
        norm.plain(
            {
                "result": '{"access_token": "tok-1234abcd", "nested": {"client_secret": "cs-99"}}',
                "later": "we used tok-1234abcd again",
                "header": "Authorization: Bearer eyJ.abc.def",
                "text": "api_key=sk-x1, X-Api-Key: 'k-42'",
            }
        )
    )
    assert data == {
        "header": f"Authorization: Bearer {MASK}",
        "later": f"we used {MASK} again",
        "result": f'{{"access_token": "{MASK}", "nested": {{"client_secret": "{MASK}"}}}}',
        "text": f"api_key={MASK}, X-Api-Key: '{MASK}'",
    }


def test_a_masked_number_is_masked_where_its_digits_are_echoed():
    norm = Normaliser()
    data = norm.finish(norm.plain({"password": 48213977, "log": "pin 48213977; 482139770 kept"}))
    assert data == {"log": f"pin {MASK}; 482139770 kept", "password": MASK}


def test_common_spellings_match_and_lookalikes_do_not():
    redactor = Redactor()
    secret = [
        "X-Api-Key", "access_token", "refreshToken", "client_secret", "private_key", "passwd",
        "credentials", "Set-Cookie", "AUTHORIZATION", "apiKey", "db.password",
        "accesstoken", "clientsecret", "dbpassword", "privatekey", "GITHUBTOKEN", "oauth",
    ]  # fmt: skip
    assert [key for key in secret if not redactor.is_secret(key)] == []
    plain = ["max_tokens", "tokenizer", "author", "keyboard", "path", "secretary_name"]
    assert [key for key in plain if redactor.is_secret(key)] == []


def test_simulate_redact_sets_the_keys_of_every_output():
    run = api_run()
    assert SECRET not in str(run)
    graph_run = simulate_with(redact=("url",))
    assert SECRET in str(graph_run) and "https://example.com" not in str(graph_run)
    assert run_args(graph_run)["url"] == MASK
    assert run_args(simulate_with(redact=None))["api_key"] == SECRET


def simulate_with(**options):
    model = ScriptedChatModel([call("call_api", url="https://example.com", headers={},
                                    api_key=SECRET), say("done")])  # fmt: skip
    graph = create_agent(model, tools=[call_api], checkpointer=InMemorySaver())
    return simulate(graph, "call it", **options)


def test_a_run_with_a_spy_has_an_audit_log_and_a_snapshot():
    charge = Spy(lambda amount, token: f"charged {amount}", name="charge")

    @tool
    def pay(amount: int) -> str:
        """Charge the customer."""
        return charge(amount, token="tok-live-5566")

    graph = create_agent(
        ScriptedChatModel([call("pay", amount=40), say("Paid.")]),
        tools=[pay],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"pay": True})],
        checkpointer=InMemorySaver(),
    )
    run = simulate(graph, "pay 40", [approve()], watch=[charge])
    [effect] = run.audit.of("side_effect")
    assert effect.data == {"name": "charge", "args": [40], "kwargs": {"token": MASK}}
    assert "charge(40, token='***')" in run.audit.render()
    assert "event: side_effect" in snapshot_text(run)
    assert "tok-live-5566" not in run.audit.to_jsonl() + snapshot_text(run) + str(run)


def test_a_secret_pair_inside_a_quoted_value_is_masked():
    from hitl_sim.normalise import Redactor

    shown = "AIMessage(content='Fetched; client_secret=cs-77aa12bb34 saved.', id='m-1')"

    assert (
        Redactor().text(shown) == "AIMessage(content='Fetched; client_secret=*** saved.', id='m-1')"
    )


GITHUB_PAT = "ghp_R3alLookingGithubPAT0123456789abcd"
AWS_CREDENTIAL = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
AWS_SIGNATURE = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
PERL_KEY = "pk-live-5e4d3c2b1a"


@tool
def http_get(url: str) -> str:
    """GET a URL, verbose."""
    return (
        "> GET /user HTTP/1.1\n"
        f"> Authorization: token {GITHUB_PAT}\n"
        f"> Authorization: AWS4-HMAC-SHA256 Credential={AWS_CREDENTIAL}, "
        f"SignedHeaders=host;range;x-amz-date, Signature={AWS_SIGNATURE}\n"
        f"$client->connect(api_key => {PERL_KEY});\n"
        "< HTTP/1.1 200 OK"
    )


def test_credentials_after_any_auth_scheme_leave_in_no_channel():
    agent = create_agent(
        ScriptedChatModel(
            [
                call("http_get", url="https://api.github.com/user"),
                say(f"Signed with {AWS_SIGNATURE}."),
            ]
        ),
        tools=[http_get],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"http_get": True})],
        checkpointer=InMemorySaver(),
    )
    run = simulate(agent, "who am i", [approve()])
    channels = {
        "str(run)": str(run),
        "audit.to_jsonl()": run.audit.to_jsonl(),
        "snapshot_text": snapshot_text(run),
    }
    for secret in (GITHUB_PAT, AWS_CREDENTIAL, AWS_SIGNATURE, PERL_KEY):
        for name, shown in channels.items():  # str(run) excerpts: not even the start may show
            assert secret[:12] not in shown, f"{secret[:12]}... leaks in {name}"
    text = snapshot_text(run)
    assert "> Authorization: token ***\n" in text
    assert "> Authorization: AWS4-HMAC-SHA256 ***\n" in text
    assert "$client->connect(api_key => ***" in text
    assert "< HTTP/1.1 200 OK" in text and "Signed with ***." in text
    assert GITHUB_PAT in run.executed[0].result  # the run itself keeps the real values


@tool
def login(user: str, api_key: str) -> dict:
    """Log in."""
    return {"status": "ok", "echo": f"used {api_key}"}


@pytest.mark.parametrize(
    "secret", ['Zq91-with"quote', "Zq91-with\\slash", "Zq91-ünicode", "Zq91-tab\there", "Zq'9\"1x"]
)
def test_a_secret_with_quotes_or_escapes_is_masked_in_its_escaped_forms_too(secret):
    new = 'Nw"77-ünï\\code'
    agent = create_agent(
        ScriptedChatModel([call("login", user="bob", api_key=secret), say("ok")]),
        tools=[login],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"login": True})],
        checkpointer=InMemorySaver(),
    )

    run = simulate(agent, "log in", [edit(api_key=new)])

    channels = {
        "timeline": str(run),
        "audit": run.audit.to_jsonl(),
        "snapshot": snapshot_text(run),
        "mermaid": mermaid(run),
        "svg": svg(run),
    }
    for fragment in ("Zq", "Nw", "77-", "ünï", "\\u00fcn"):
        assert [name for name, text in channels.items() if fragment in text] == [], fragment
