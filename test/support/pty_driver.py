#!/usr/bin/env python3
"""Run a command on a pseudo-terminal and relay it over pipes, for black-box tests.

usage: pty_driver.py COLS ROWS [--stdout FILE] [--resize-fd N] -- COMMAND [ARGS...]

Everything the command writes to its terminal is copied to our stdout (raw bytes, escapes and
all); everything written to our stdin is typed into the terminal. Closing our stdin types
nothing more (the terminal stays open). Exits with the command's exit status (128+N for
signal N). --stdout FILE: the command's stdout goes to FILE (as `> FILE` in a shell would), its
stdin and stderr stay on the terminal. --resize-fd N: a line "COLS ROWS" on that file descriptor
resizes the terminal (the command gets SIGWINCH, as from a window being resized).
"""
import errno, fcntl, os, pty, select, signal, struct, sys, termios

def main():
    cols, rows = int(sys.argv[1]), int(sys.argv[2])
    rest = sys.argv[3:]
    stdout_file = None
    control = None
    while rest[0] in ('--stdout', '--resize-fd'):
        if rest[0] == '--stdout':
            stdout_file = rest[1]
        else:
            control = int(rest[1])
        rest = rest[2:]
    assert rest[0] == '--'
    argv = rest[1:]
    pid, master = pty.fork()
    if pid == 0:
        try:
            if stdout_file is not None:
                fd = os.open(stdout_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fd, 1)
                os.close(fd)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    stdin_open = True
    pending = b''
    out = sys.stdout.buffer
    while True:
        fds = [master] + ([0] if stdin_open else []) + ([control] if control is not None else [])
        ready, _, _ = select.select(fds, [], [], 0.1)
        if control is not None and control in ready:
            data = os.read(control, 1024)
            if not data:
                control = None
            pending += data
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                c, r = (int(x) for x in line.split())
                # the kernel sends SIGWINCH to the terminal's foreground process group
                fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b''
            if not data:
                break
            out.write(data)
            out.flush()
        if stdin_open and 0 in ready:
            data = os.read(0, 65536)
            if not data:
                stdin_open = False
            else:
                os.write(master, data)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status):
        sys.exit(os.WEXITSTATUS(status))
    sys.exit(128 + os.WTERMSIG(status))

main()
