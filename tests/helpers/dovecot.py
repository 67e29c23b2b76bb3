"""A real IMAP server for the bounce tests: Debian's Dovecot, started with a configuration of its own.

The server listens on a free loopback port, keeps one user's Maildir in a temporary folder and logs there,
and stops with the test. It runs as the user running the tests; under root (CI) the mail itself belongs to
the `dovecot` system user, since Dovecot refuses to open a mailbox as root.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers.servers import free_port, wait_for

USERNAME = "bounces"
PASSWORD = "bounce-test-password"


def dovecot_binary() -> str | None:
    """Where Debian's `dovecot` is (it lives in /usr/sbin, which a plain user's PATH may not hold)."""
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.access(p, os.X_OK)), None)


def require_dovecot() -> str:
    """The dovecot binary; a skip with the reason here, a failure under CI (which installs it)."""
    binary = dovecot_binary()
    if binary is None:
        message = "Dovecot is not installed: `make system-packages-test` installs dovecot-imapd"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; under CI that is a failure, not a skip.")
        pytest.skip(message)
    return binary


class Dovecot:
    """One Dovecot IMAP server on loopback with one mailbox (user `bounces`)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        # Not under pytest's tmp_path: its folders are private to the user running the tests, and under root
        # Dovecot's own users must reach the mail folder.
        self.root = Path(tempfile.mkdtemp(prefix="nwc-dovecot-"))
        self.root.chmod(0o755)
        self.home = self.root / "home" / USERNAME
        self.maildir = self.home / "Maildir"
        self.process: subprocess.Popen | None = None
        if os.getuid() == 0:
            mail_user = pwd.getpwnam("dovecot")
            self.uid, self.gid = mail_user.pw_uid, mail_user.pw_gid
            login_user, internal_user = "dovenull", "dovecot"
        else:
            me = pwd.getpwuid(os.getuid())
            self.uid, self.gid = me.pw_uid, me.pw_gid
            login_user = internal_user = me.pw_name

        (self.root / "users").write_text(f"{USERNAME}:{{PLAIN}}{PASSWORD}\n")
        for folder in ("run", "state", self.maildir / "new", self.maildir / "cur", self.maildir / "tmp"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self._own(self.root / "home")
        self.config = self.root / "dovecot.conf"
        self.config.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = nwc-test-{self.port}
log_path = {self.root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.root}/home/%u
}}
mail_location = maildir:~/Maildir
# The mail's owner may be a system user (dovecot, under root) or anyone running the tests.
first_valid_uid = {self.uid}
last_valid_uid = {self.uid}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")

    def _own(self, path: Path) -> None:
        if os.getuid() == 0:
            for folder, _dirs, files in os.walk(path):
                os.chown(folder, self.uid, self.gid)
                for name in files:
                    os.chown(os.path.join(folder, name), self.uid, self.gid)

    def start(self) -> Dovecot:
        """Start the server in the foreground of a child process and wait until it answers."""
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    return conn.recv(100).startswith(b"* OK")
            except OSError:
                return False

        try:
            wait_for(answers, 15, "Dovecot to answer", self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"

    def config_for(self) -> dict:
        """The app settings that point the bounce reader at this server."""
        return {
            "BOUNCE_IMAP_HOST": "127.0.0.1",
            "BOUNCE_IMAP_PORT": self.port,
            "BOUNCE_IMAP_SECURITY": "none",
            "BOUNCE_IMAP_USERNAME": USERNAME,
            "BOUNCE_IMAP_PASSWORD": PASSWORD,
            "BOUNCE_IMAP_FOLDER": "INBOX",
        }

    def client(self) -> imaplib.IMAP4:
        """A logged-in IMAP connection with the inbox selected."""
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USERNAME, PASSWORD)
        imap.select("INBOX")
        return imap

    def deliver(self, *messages: bytes) -> None:
        """Put messages in the mailbox as a mail server would, over IMAP (APPEND)."""
        imap = self.client()
        try:
            for data in messages:
                status, answer = imap.append("INBOX", None, None, data)
                assert status == "OK", answer
        finally:
            imap.logout()

    def drop_into_maildir(self, messages: list[bytes]) -> None:
        """Write many messages straight into the Maildir's new/ folder, as a local delivery agent does (fast)."""
        new = self.maildir / "new"
        stamp = int(time.time())
        for i, data in enumerate(messages):
            (new / f"{stamp}.M{i}P{os.getpid()}.{uuid.uuid4().hex[:8]}").write_bytes(data)
        self._own(self.maildir)

    def messages(self) -> list[tuple[set[str], bytes]]:
        """Every message left in the mailbox, with its flags."""
        imap = self.client()
        try:
            _status, data = imap.uid("SEARCH", None, "ALL")
            uids = data[0].split() if data and data[0] else []
            found = []
            for uid in uids:
                _status, parts = imap.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                head = parts[0][0].decode()
                flags = set(head.split("FLAGS (", 1)[1].split(")", 1)[0].split())
                found.append((flags, parts[0][1]))
            return found
        finally:
            imap.logout()
