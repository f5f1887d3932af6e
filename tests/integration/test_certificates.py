"""Throwaway certificates for the TLS tests, made with the openssl command-line tool: a CA, a
server certificate for localhost and 127.0.0.1, and client certificates signed by the CA.

    certs = TestCertificates(directory)
    certs.ca, certs.server_cert, certs.server_key        # PEM file paths
    cert, key = certs.client("ci-bot")                  # subject CN=ci-bot
"""

from __future__ import annotations

import os
import shutil
import subprocess


def _openssl(*args: str, cwd: str) -> None:
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl not found (apt-get install openssl)")
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


class TestCertificates:
    def __init__(self, directory: str):
        self.directory = directory
        self.ca = os.path.join(directory, "ca.pem")
        self.ca_key = os.path.join(directory, "ca.key")
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=perfcast test CA", "-keyout", self.ca_key, "-out", self.ca,
                 cwd=directory)
        self.server_cert, self.server_key = self._signed(
            "server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1")

    def client(self, common_name: str) -> tuple[str, str]:
        return self._signed(f"client-{common_name}", common_name,
                            "extendedKeyUsage=clientAuth")

    def _signed(self, stem: str, common_name: str, extension: str) -> tuple[str, str]:
        key = os.path.join(self.directory, f"{stem}.key")
        csr = os.path.join(self.directory, f"{stem}.csr")
        cert = os.path.join(self.directory, f"{stem}.pem")
        extensions = os.path.join(self.directory, f"{stem}.ext")
        with open(extensions, "w") as f:
            f.write(extension + "\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={common_name}",
                 "-keyout", key, "-out", csr, cwd=self.directory)
        _openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                 "-CAcreateserial", "-days", "2", "-extfile", extensions, "-out", cert,
                 cwd=self.directory)
        return cert, key
