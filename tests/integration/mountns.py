"""A private mount namespace for a test, held by this process.

Run as a script; it unshares its mount namespace (mounts made here are
seen by nothing else on the host, and vanish with the namespace), then
answers one command per line on stdin with "ok" or "error <why>":

  fuse PATH      mount a FUSE file system at PATH whose daemon never
                 answers: every statfs on it hangs, like a dead NFS server
  release PATH   close its /dev/fuse fd: the kernel aborts the connection
                 and hung calls return ENOTCONN
  tmpfs PATH     mount a small tmpfs at PATH
  tmpfs-many DIR N   mount N of them at DIR/m0 .. DIR/m<N-1>
  fill PATH N    write N bytes into the file PATH (on one of these mounts)
  umount PATH    detach PATH
  quit           exit (the namespace and its mounts go with the last
                 process in it)

A daemon is put in the namespace with
`nsenter --mount=/proc/<this pid>/ns/mnt -- kpulse daemon ...`.
"""
import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 2, 4, 16384, 1 << 18
MNT_DETACH = 2

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def check(r, what):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (what, os.strerror(e)))


def main():
    check(libc.unshare(CLONE_NEWNS), "unshare")
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    fuse_fds = {}
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        try:
            if cmd == "fuse":
                os.makedirs(arg, exist_ok=True)
                fd = os.open("/dev/fuse", os.O_RDWR)  # not inherited (PEP 446)
                opts = "fd=%d,rootmode=40000,user_id=0,group_id=0" % fd
                check(libc.mount(b"kpulse-hang", arg.encode(), b"fuse", MS_NOSUID | MS_NODEV,
                                 opts.encode()), "mount fuse")
                fuse_fds[arg] = fd
            elif cmd == "release":
                os.close(fuse_fds.pop(arg))
            elif cmd == "tmpfs":
                os.makedirs(arg, exist_ok=True)
                check(libc.mount(b"kpulse-tmpfs", arg.encode(), b"tmpfs", 0, b"size=16m"),
                      "mount tmpfs")
            elif cmd == "tmpfs-many":
                base, n = arg.rsplit(" ", 1)
                for i in range(int(n)):
                    path = os.path.join(base, "m%d" % i)
                    os.makedirs(path, exist_ok=True)
                    check(libc.mount(b"kpulse-tmpfs", path.encode(), b"tmpfs", 0, b"size=1m"),
                          "mount tmpfs")
            elif cmd == "fill":
                path, n = arg.rsplit(" ", 1)
                with open(path, "wb") as f:
                    f.write(b"\0" * int(n))
            elif cmd == "umount":
                check(libc.umount2(arg.encode(), MNT_DETACH), "umount")
            elif cmd == "quit":
                break
            else:
                raise ValueError("unknown command %r" % cmd)
            print("ok", flush=True)
        except (OSError, ValueError, KeyError) as e:
            print("error %s" % e, flush=True)
    for fd in fuse_fds.values():
        os.close(fd)


if __name__ == "__main__":
    main()
