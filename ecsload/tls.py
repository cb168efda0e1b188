"""How every client of the harness trusts an https endpoint: one SSLContext from the settings.

The traffic model's users, the probe and the check before the first level all
verify the server the same way, before a single credential is sent: the
certificate's chain against the system's CA store plus, with `--ca-bundle`, a
private CA's PEM certificates, and its name against the endpoint's host. With
`--insecure` nothing is verified, and every report says so (`NOT_VERIFIED`).
Standard library only: `--help` runs on bare python3 and imports the plan, which
imports this.
"""

import argparse
import base64
import binascii
import re
import ssl
from urllib.parse import urlsplit

from ecsload.cli import UserError
from ecsload.exits import EXIT_USAGE
from ecsload.input_files import MIB, InputFileError, read_input_file

CA_BUNDLE_LIMIT = 16 * MIB  # Debian's whole system bundle is 0.2 MiB
NOT_VERIFIED = "TLS: certificate NOT verified (--insecure)"
PEM_BEGIN, PEM_END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
PEM_CERTIFICATE = re.compile(f"{PEM_BEGIN}[^-]+{PEM_END}")
FIXES = (
    "To trust a private CA, give --ca-bundle FILE (its PEM certificate; env ECS_CA_BUNDLE); "
    "to skip verification knowingly, --insecure"
)


class CABundleError(UserError):
    """A CA bundle that cannot be used; exit code 2."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"CA bundle {path} {problem}", EXIT_USAGE)


def read_ca_bundle(path: str) -> str:
    """The PEM certificates of a CA bundle (text around them dropped), or CABundleError."""
    try:
        data = read_input_file(path, CA_BUNDLE_LIMIT)
    except InputFileError as error:
        raise CABundleError(path, str(error)) from None
    text = data.decode("latin-1")
    blocks = list(PEM_CERTIFICATE.finditer(text))
    if not blocks:
        raise CABundleError(
            path,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----); a DER file converts "
            "with `openssl x509 -inform der -in FILE`",
        )
    for number, block in enumerate(blocks, 1):
        problem = certificate_problem(block.group())
        if problem:
            line = text.count("\n", 0, block.start()) + 1
            raise CABundleError(
                path,
                f"holds a certificate that cannot be read (PEM block {number} of {len(blocks)}, "
                f"from line {line}): {problem}",
            )
    return "\n".join(block.group() for block in blocks)


def certificate_problem(block: str) -> str | None:
    """What is wrong with one PEM certificate block, or None: checked one by one, as
    OpenSSL, given them all, says only "no start line" for any bad one."""
    body = block.removeprefix(PEM_BEGIN).removesuffix(PEM_END)
    body = "".join(body.split())
    try:
        der = base64.b64decode(body, validate=True)
    except binascii.Error:
        return "its base64 text is corrupt"
    try:
        ssl.create_default_context(cadata=der)
    except ssl.SSLError as error:
        return f"it is not an X.509 certificate ({error.reason or 'OpenSSL cannot parse it'})"
    return None


def client_context(insecure: bool, ca_pem: str | None = None) -> ssl.SSLContext:
    """The context of an https client: verifying (system CAs and `ca_pem`) or, insecure, not."""
    if insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context()
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    return context


def add_trust_options(parser: argparse.ArgumentParser) -> None:
    """`--ca-bundle FILE` or `--insecure`, as the commands that talk to the endpoint take them."""
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument(
        "--ca-bundle", metavar="FILE", help="PEM certificates to trust besides the system's"
    )
    trust.add_argument("--insecure", action="store_true", help="do not verify the certificate")


def trusted_context(options: argparse.Namespace) -> ssl.SSLContext:
    """The client context that a command's `add_trust_options` ask for."""
    ca_pem = read_ca_bundle(options.ca_bundle) if options.ca_bundle else None
    return client_context(options.insecure, ca_pem)


def is_https(url: str) -> bool:
    return urlsplit(url).scheme == "https"


def tls_terms(url: str, insecure: bool, ca_bundle: str | None) -> dict[str, object] | None:
    """summary.json's `tls`: whether the certificate was verified and with which bundle; None
    for plain http."""
    if not is_https(url):
        return None
    return {"verified": not insecure, "ca_bundle": None if insecure else ca_bundle or None}
