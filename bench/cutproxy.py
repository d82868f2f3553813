"""A TCP relay on 127.0.0.1 that cuts the connection after CUT bytes from client to server.

Usage: python3 bench/cutproxy.py TARGET_PORT CUT_BYTES PORT_FILE
Writes its listening port to PORT_FILE, serves one connection at a time until killed. Used by bench/fleet.sh to cut
a push at a known point, as FleetIT's CuttingProxy does.
"""
import socket, sys, threading

target, cut, port_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sent = [0]
lock = threading.Lock()

def pipe(src, dst, counted):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if counted:
                with lock:
                    room = cut - sent[0]
                    if room <= 0:
                        break
                    data = data[:room]
                    sent[0] += len(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
with open(port_file, "w") as f:
    f.write(str(srv.getsockname()[1]))
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pipe, args=(c, u, True), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, False), daemon=True).start()
