"""The REPL, driven through its input stream and through a pseudo-terminal."""
import io
import os
import sys
import time

import pytest

from dmlpy.repl import Repl, open_brackets


def drive(text: str):
    out, err = io.StringIO(), io.StringIO()
    Repl(stdin=io.StringIO(text), stdout=out, stderr=err).loop()
    return out.getvalue().replace("dml> ", "").replace("...> ", ""), err.getvalue()


def test_bare_expression_prints_its_value():
    out, err = drive("x = 40\nx + 2\nsum(matrix(1, 2, 2))\n")
    assert out == "42\n4.0\n" and err == ""


def test_multiline_function_stays_defined():
    out, err = drive("f = function(double a) return (double b) {\n  b = a * 2\n}\nf(21)\ny = f(1)\ny\n")
    assert out == "42.0\n2.0\n" and err == ""


def test_error_reports_and_keeps_the_session():
    out, err = drive("x = 5\nprint(nope)\nx\ny = matrix(1,2,2) %*% matrix(1,3,3)\nx * 2\n")
    assert out == "5\n10\n"
    assert "undefined variable 'nope'" in err
    assert "non-conformant" in err


def test_open_brackets():
    assert open_brackets("if (x > 1) {") == 1
    assert open_brackets('s = "{ not a brace"') == 0
    assert open_brackets("x = (1 +  # ( comment\n 2)") == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
def test_repl_on_a_pseudo_terminal():
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", "dmlpy"])

    def read_until(marker, timeout=30):
        buf, end = b"", time.time() + timeout
        while marker not in buf and time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    buf += os.read(fd, 4096)
                except OSError:
                    break
        return buf.decode(errors="replace")

    try:
        assert "dml> " in read_until(b"dml> ")
        os.write(fd, b"a = 6 * 7\n")
        read_until(b"dml> ")
        os.write(fd, b"a\n")
        assert "42" in read_until(b"dml> ")
        os.write(fd, b"while (TRUE) { a = a + 1 }\n")
        time.sleep(1.0)
        os.write(fd, b"\x03")                       # Ctrl-C stops the loop, the session stays
        assert "interrupted" in read_until(b"dml> ")
        os.write(fd, b"a > 42\n")
        assert "TRUE" in read_until(b"dml> ")
        os.write(fd, b"\x04")                       # Ctrl-D exits
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_quit_exit_and_q_leave_unless_the_session_defines_them():
    out, err = drive("x = 1\nprint(x)\nquit()\nprint(2)\n")
    assert out == "1\n" and err == ""
    assert drive("q();\nprint(2)\n") == ("", "")
    out, err = drive("exit = function() { print(\"defined\") }\nexit()\nprint(3)\n")
    assert out == "defined\n3\n" and err == ""
