"""A relay between libvirt clients and the private daemon that puts a fault
at an exact point of a task: on the Nth call of a given RPC procedure.

libvirt's RPC is framed (4-byte length, then a header: program, version,
procedure, type, serial, status), so a byte relay can see which call a
client makes without understanding it. A rule then, at that call:

- ``kill``: does not pass the call on and runs the fault (the test kills the
  daemon): the call was never made;
- ``kill_after``: passes the call on, keeps the daemon's reply back and runs
  the fault: the call was made, the client never learns it;
- ``hold``: keeps the call until ``count`` calls are held (or a time
  limit), then lets them all go: two clients' calls meet at the daemon, a
  race made certain - unless one client waits for the other before it
  calls, which the time limit then shows.

Nothing of libvirt is mocked: the daemon is real and really killed; the
client is the collection's own code through libvirt-python. The relay only
decides *when*. (It passes no file descriptors, which only LXC namespace and
graphics calls use: the tests relay QEMU connections.)
"""
import os
import socket
import struct
import threading
import time

CALL, REPLY, MESSAGE, STREAM = 0, 1, 2, 3
TYPE_NAMES = {0: 'call', 1: 'reply', 2: 'message', 3: 'stream', 4: 'call+fds', 5: 'reply+fds', 6: 'hole'}
REMOTE_PROGRAM = 0x20008086

# remote_protocol.x procedure numbers (stable across libvirt releases), as
# seen on the wire from the collection's own calls.
PROC = {
    'domain_create': 9,
    'domain_define_xml': 11,
    'domain_define_xml_flags': 350,
    'domain_get_state': 212,
    'domain_interface_addresses': 353,
    'domain_snapshot_create_xml': 185,
    'connect_list_all_domains': 273,
    'connect_get_all_domain_stats': 344,
    'network_update': 291,
    'storage_pool_define_xml': 77,
    'storage_pool_create': 78,
    'storage_vol_create_xml': 93,
    'storage_vol_create_xml_from': 125,
    'storage_vol_upload': 208,
}


def _recv_exact(sock, count):
    chunks = []
    while count:
        data = sock.recv(count)
        if not data:
            raise EOFError
        chunks.append(data)
        count -= len(data)
    return b''.join(chunks)


def read_packet(sock):
    """(header dict, raw bytes) of the next packet."""
    head = _recv_exact(sock, 4)
    (length,) = struct.unpack('>I', head)
    body = _recv_exact(sock, length - 4)
    prog, vers, proc, kind, serial, status = struct.unpack('>6I', body[:24])
    return {'prog': prog, 'proc': proc, 'type': kind, 'serial': serial, 'status': status}, head + body


class Rule:
    def __init__(self, proc, action, nth=1, types=(CALL,), fault=None, hold_timeout=10.0, count=2):
        self.proc = proc
        self.action = action
        self.nth = nth
        self.types = types
        self.fault = fault
        self.hold_timeout = hold_timeout
        self.seen = 0
        self.fired = threading.Event()
        self.fired_at = None
        self.release = threading.Event()
        self.held = 0
        self.count = count


class FaultProxy:
    """``with FaultProxy(path, upstream) as proxy:`` - clients connect to ``path``."""

    def __init__(self, path, upstream):
        self.path = path
        self.upstream = upstream
        self.rules = []
        self.calls = []  # (monotonic time, procedure, type) of every client packet
        self._lock = threading.Lock()
        self._sockets = set()
        self._listener = None
        self._closing = False

    def __enter__(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._closing = True
        for rule in self.rules:
            rule.release.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            for sock in list(self._sockets):
                self._shut(sock)
        if os.path.exists(self.path):
            os.unlink(self.path)

    def on(self, proc, action, **kwargs):
        """A rule for calls of ``proc`` (a name of PROC or a number; a tuple: any of them)."""
        procs = proc if isinstance(proc, tuple) else (proc,)
        rule = Rule(tuple(PROC[p] if isinstance(p, str) else p for p in procs), action, **kwargs)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        with self._lock:
            for rule in self.rules:
                rule.release.set()
            self.rules = []

    def procedures(self):
        return [proc for _t, proc, kind in self.calls if kind == CALL]

    # -- relaying -------------------------------------------------------------------
    @staticmethod
    def _shut(sock):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self._closing:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream)
            except OSError:
                self._shut(client)  # no daemon: the client sees the connection end, as without the relay
                self._shut(upstream)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            state = {'swallow': set(), 'fault_on_reply': {}}
            threading.Thread(target=self._client_to_daemon, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._daemon_to_client, args=(upstream, client, state), daemon=True).start()

    def _match(self, header):
        with self._lock:
            for rule in self.rules:
                if rule.fired.is_set() or header['proc'] not in rule.proc or header['type'] not in rule.types:
                    continue
                rule.seen += 1
                if rule.seen >= rule.nth or rule.action == 'hold':
                    return rule
        return None

    def _fire(self, rule):
        rule.fired_at = time.monotonic()
        rule.fired.set()
        if rule.fault:
            rule.fault()

    def _client_to_daemon(self, client, upstream, state):
        try:
            while True:
                header, raw = read_packet(client)
                self.calls.append((time.monotonic(), header['proc'], header['type']))
                rule = self._match(header) if header['prog'] == REMOTE_PROGRAM else None
                if rule is not None and rule.action == 'hold':
                    with self._lock:
                        rule.held += 1
                        if rule.held >= rule.count:
                            rule.release.set()
                    rule.release.wait(rule.hold_timeout)
                    if not rule.fired.is_set():
                        rule.fired_at = time.monotonic()
                        rule.fired.set()
                elif rule is not None and rule.action == 'kill':
                    self._fire(rule)
                    break
                elif rule is not None and rule.action == 'kill_after':
                    state['fault_on_reply'][header['serial']] = rule
                upstream.sendall(raw)
        except (EOFError, OSError):
            pass
        self._shut(client)
        self._shut(upstream)

    def _daemon_to_client(self, upstream, client, state):
        try:
            while True:
                header, raw = read_packet(upstream)
                rule = state['fault_on_reply'].pop(header['serial'], None) if header['type'] == REPLY else None
                if rule is not None:
                    self._fire(rule)
                    break
                client.sendall(raw)
        except (EOFError, OSError):
            pass
        self._shut(client)
        self._shut(upstream)
