#!/usr/bin/python3
"""Relays one guest connection to one port on the host's loopback, for vm-run.sh --guestfwd.

qemu's guestfwd runs this once per connection the guest opens to 10.0.2.100:8080, with that connection on stdin and
stdout. (A guestfwd to a tcp: character device instead is one connection, opened when qemu starts: a second request
of the guest would get no answer.) It connects to 127.0.0.1:PORT and nowhere else.
"""
import os
import socket
import sys
import threading


def main():
    port = int(sys.argv[1])
    if not 0 < port < 65536:
        sys.exit("bad port")
    s = socket.create_connection(("127.0.0.1", port))

    def guest_to_host():
        while True:
            data = os.read(0, 65536)
            if not data:
                s.shutdown(socket.SHUT_WR)
                return
            s.sendall(data)

    threading.Thread(target=guest_to_host, daemon=True).start()
    while True:
        data = s.recv(65536)
        if not data:
            break
        view = memoryview(data)
        while view:
            n = os.write(1, view)
            view = view[n:]
    s.close()


if __name__ == "__main__":
    main()
