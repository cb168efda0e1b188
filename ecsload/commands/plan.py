"""The run plan of run_load_test.sh: every setting resolved, validated and printed for bash.

Bash runs the processes; Python decides what to run. This command resolves each
setting (options > environment > config file > defaults), checks all of them
before anything starts, creates the run folder with its plan.json (credentials
by path only), and prints shell assignments for the script to `eval`.

The settings are declared in ecsload.setting_rows and resolved in
ecsload.plan.resolve; the checks across them are in ecsload.plan.checks. Standard
library only: `--help` runs on bare python3.
"""

import os
import sys
import time
from collections.abc import Sequence

from ecsload.cli import UserError, run
from ecsload.credentials import CredentialsError, load_credentials
from ecsload.exits import EXIT_USAGE, shell_assignments
from ecsload.history_location import (
    default_label,
    with_history_option,
    without_secret,
)
from ecsload.plan.checks import (
    check_credentials_fit,
    check_node_deployment,
    check_processes_fit,
    check_remote_write,
    check_tls_settings,
    check_verdict_settings,
    clear_text_warning,
    ignore_local_node_settings,
    ignore_tls_settings,
    resolve_level_end,
    resolve_search,
)
from ecsload.plan.distribution import resolve_processes, resolve_role, role_assignments
from ecsload.plan.newrelic_agent import check_agent_config
from ecsload.plan.resolve import (
    assignments,
    plan_text,
    resolve,
    resolve_arrival_levels,
    resolve_history,
)
from ecsload.run_folder import (
    RunFolderError,
    WriteError,
    new_run_folder,
    run_shell,
    write_plan,
)
from ecsload.setting_rows import PROG, parser
from ecsload.tls import NOT_VERIFIED, tls_terms


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    search = argv[:1] == ["capacity"]  # run_load_test.sh capacity: a capacity search
    options = parser().parse_args(with_history_option(argv[search:], os.environ))
    values, sources = resolve(options, os.environ)
    resolve_search(values, sources, search)
    if values["credentials"]:
        try:
            load_credentials(values["credentials"])
        except CredentialsError as error:
            raise CredentialsError(f"{sources['credentials']}: {error}") from None
    if values["endpoint"]:
        ignore_local_node_settings(values, sources)
    ignore_tls_settings(values, sources, values["worker"])
    check_tls_settings(values, sources)
    check_remote_write(values, sources)
    resolve_level_end(values, sources)
    if values["newrelic"]:
        check_agent_config(values["newrelic"], os.environ)
    if values["graphs"] and not os.path.isdir(os.path.dirname(values["graphs"])):
        raise UserError(
            f"graphs ({sources['graphs']}): {os.path.dirname(values['graphs'])} is not a folder: "
            "give the PDF a path in an existing folder",
            EXIT_USAGE,
        )
    role = resolve_role(values, sources)
    resolve_processes(values, sources, role["role"])
    resolve_history(values, sources, values["results"], role["role"])
    if values["rates"]:
        resolve_arrival_levels(values, sources, role)
    elif role["role"] == "local":  # a worker's levels are its master's
        check_processes_fit(values, sources)
    check_credentials_fit(values, sources)
    if values["node_deployment"]:
        check_node_deployment(values["node_deployment"], sources["node_deployment"])
    if role["role"] != "worker":
        check_verdict_settings(values, sources)
    try:
        run = new_run_folder(values["results"])
    except RunFolderError as error:
        raise UserError(str(error), EXIT_USAGE) from None
    run_dir = run.path
    ci = default_label(os.environ)
    label_notes = [note for note in (ci.branch_note,) if note]
    if sources["label"] == "default" and ci.label:
        values["label"], sources["label"] = ci.label, "the CI's variables"
        label_notes += [ci.label_note] if ci.label_note else []
    for note in label_notes:
        sys.stderr.write(f"{PROG}: note: {note}\n")
    tls_notes = [NOT_VERIFIED] if values["insecure"] else []
    warning = clear_text_warning(values, sources)
    if warning:
        sys.stderr.write(f"{PROG}: {warning}\n")
    plan = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "run_dir": str(run_dir),
        **{key: None if value == "" else value for key, value in values.items()},
        "history": without_secret(values["history"]) or None,
        "branch": ci.branch,
        "sources": sources,
        "distribution": role,
        "tls": tls_terms(values["endpoint"], values["insecure"], values["ca_bundle"]),
        "notes": [*tls_notes, *([warning] if warning else []), *label_notes],
        "search": search,
        "verbose": options.verbose,
    }
    try:
        write_plan(run.plan, plan)
    except WriteError as error:
        raise UserError(str(error), EXIT_USAGE) from None
    if options.verbose:
        sys.stderr.write(
            plan_text(run_dir, values, sources, tls_notes, worker=role["role"] == "worker")
        )
    sys.stdout.write(
        assignments(run_dir, values, options.verbose)
        + role_assignments(role)
        + run_shell(run_dir)
        + shell_assignments()  # the exit codes bash uses
    )
    return 0


if __name__ == "__main__":
    run(main, PROG)
