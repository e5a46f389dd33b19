"""The dmlpy command: exit codes, error format (caret, call stack), parameters, -stats, --check."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dmlpy(*args, cwd=None, stdin=None):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "dmlpy", *args], capture_output=True, text=True,
                          cwd=cwd, input=stdin, env=env)


def test_inline_code_prints_and_exits_zero():
    p = dmlpy("-c", "x = 1 / 4; print(x); print(7 %/% 2)")
    assert (p.returncode, p.stdout, p.stderr) == (0, "0.25\n3\n", "")


def test_script_with_nvargs_and_args(tmp_path):
    script = tmp_path / "s.dml"
    script.write_text('print($name + " " + ($n + 1) + " " + $1)\nv = ifdef($missing, 3.5)\nprint(v)\n')
    p = dmlpy(str(script), "-args", "pos", "-nvargs", "name=abc", "n=41")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "abc 42 pos\n3.5\n"


def test_f_flag_is_systemds_spelling(tmp_path):
    script = tmp_path / "s.dml"
    script.write_text("print(TRUE)\n")
    p = dmlpy("-f", str(script))
    assert (p.returncode, p.stdout) == (0, "TRUE\n")


def test_syntax_error_exit_2_with_caret(tmp_path):
    script = tmp_path / "bad.dml"
    script.write_text("x = 1\ny = x + * 2\nprint(y)\n")
    p = dmlpy(str(script))
    assert p.returncode == 2
    lines = p.stderr.splitlines()
    assert lines[0].startswith(f"{script}:2:9: syntax error: unexpected '*'; expected ")
    assert "a name" in lines[0] and "a number" in lines[0]
    assert lines[1] == "    y = x + * 2"
    assert lines[2] == "            ^"
    assert "Traceback" not in p.stderr


def test_validation_error_exit_2():
    p = dmlpy("-c", "print(undefinedVariable)")
    assert p.returncode == 2
    assert "<command line>:1:7: validation error: undefined variable 'undefinedVariable'" in p.stderr


def test_runtime_error_exit_1_with_call_stack(tmp_path):
    script = tmp_path / "rt.dml"
    script.write_text(
        "inner = function(matrix[double] X) return (matrix[double] Y) {\n"
        "  Y = X %*% X\n"
        "}\n"
        "outer = function(matrix[double] X) return (matrix[double] Y) {\n"
        "  Y = inner(X)\n"
        "}\n"
        'print("before")\n'
        "Z = outer(matrix(1, 2, 3))\n")
    p = dmlpy(str(script))
    assert p.returncode == 1
    assert p.stdout == "before\n"
    err = p.stderr.splitlines()
    assert err[0] == f"{script}:2:9: runtime error: operator %*%: non-conformant matrices 2x3 and 2x3 (3 columns against 2 rows)"
    assert err[1] == "      Y = X %*% X"
    assert err[2] == "            ^"          # the caret stands under the failing operator
    assert "DML call stack (innermost last):" in err
    i = err.index("DML call stack (innermost last):")
    assert err[i + 1:] == [f"  {script}:8:5 in main", f"  {script}:5:7 in outer", f"  {script}:2:9 in inner"]
    assert "Traceback" not in p.stderr


def test_stop_exits_1_with_message():
    p = dmlpy("-c", 'print("a"); stop("custom failure")')
    assert p.returncode == 1
    assert p.stdout == "a\n"
    assert "stop: custom failure" in p.stderr


def test_debug_shows_python_traceback():
    p = dmlpy("--debug", "-c", 'stop("x")')
    assert p.returncode == 1
    assert "Traceback (most recent call last)" in p.stderr


def test_check_parses_and_validates_without_running():
    p = dmlpy("--check", "-c", 'print("should not print")')
    assert (p.returncode, p.stdout) == (0, "")
    p = dmlpy("--check", "-c", "print(nope)")
    assert p.returncode == 2


def test_version():
    p = dmlpy("--version")
    assert p.returncode == 0 and p.stdout.startswith("dmlpy ")


def test_a_reader_that_stops_early_stops_dmlpy_quietly():
    """dmlpy ... | head: once the pipe's reader has gone, dmlpy stops without an error message,
    with the exit status of a tool stopped by SIGPIPE (141)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen([sys.executable, "-m", "dmlpy", "-c", "for (i in 1:1000000) { print(i) }"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout.readline() == b"1\n"
    p.stdout.close()
    assert p.wait(timeout=60) == 141
    assert p.stderr.read() == b""


def test_a_systemds_command_line_runs_unchanged(tmp_path):
    """SystemDS's -s (inline script), -help and -debug work; its options without meaning here are
    accepted with a warning each."""
    assert dmlpy("-s", "print(6 * 7)").stdout == "42\n"
    assert dmlpy("-help").returncode == 0 and dmlpy("-help").stdout.startswith("usage: dmlpy")
    script = tmp_path / "s.dml"
    script.write_text("x = nope + 1\n")
    assert "Traceback" in dmlpy("-debug", "-f", str(script)).stderr
    script.write_text("print($n + 1)\n")
    p = dmlpy("-exec", "singlenode", "-explain", "hops", "-config", "SystemDS-config.xml", "-seed", "7",
              "-mem", "-lineage", "-f", str(script), "-nvargs", "n=2")
    assert (p.returncode, p.stdout) == (0, "3\n")
    assert p.stderr.splitlines() == [f"dmlpy: warning: SystemDS's {flag} has no effect here (ignored)"
                                     for flag in ("-explain", "-config", "-seed", "-mem", "-lineage")]


def test_help_lists_the_flags_and_the_environment_variables():
    p = dmlpy("--help")
    assert p.returncode == 0 and p.stderr == ""
    for text in ("-nvargs", "--precision {double,single}", "-gpu, --gpu", "\nenvironment:\n",
                 "  DMLPY_GPU_WINOGRAD=0|1|2|4 im2col, Winograd, or Winograd F(2x2)/F(4x4)", "  DMLPY_CACHE=DIR"):
        assert text in p.stdout


def test_usage_error_exit_2():
    p = dmlpy("--no-such-flag")
    assert p.returncode == 2


def test_missing_script_file(tmp_path):
    p = dmlpy(str(tmp_path / "nope.dml"))
    assert p.returncode == 1
    assert "cannot read script" in p.stderr


def test_missing_command_line_parameter_is_a_validation_error():
    p = dmlpy("-c", "print($x)")
    assert p.returncode == 2
    assert "command-line parameter $x is not given" in p.stderr


def test_nvargs_names_must_be_variable_names():
    p = dmlpy("-c", "print($n)", "-nvargs", "=3")
    assert p.returncode == 2
    assert "-nvargs: '' is not a DML variable name" in p.stderr


def test_integer_argument_beyond_a_long_is_a_double():
    # SystemDS reads a number that is no Java long as a double (and Java 17 prints it so)
    p = dmlpy("-c", "print($1)", "-args", "99999999999999999999999")
    assert (p.returncode, p.stdout) == (0, "9.999999999999999E22\n")
    p = dmlpy("-c", "print($1)", "-args", "9223372036854775807")
    assert p.stdout == "9223372036854775807\n"      # the largest long is still an int


def test_stats_before_the_script_takes_its_default_count(tmp_path):
    script = tmp_path / "s.dml"
    script.write_text("x = sum(matrix(1, 3, 3))\nprint(x)\n")
    p = dmlpy("-stats", str(script))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("9.0\nSystemDS Statistics:\nTotal execution time:")


def test_stats_prints_heavy_hitters():
    p = dmlpy("-stats", "-c", "X = matrix(1, 10, 10); for (i in 1:5) { X = X %*% X / sum(X) }\nprint(sum(X))")
    assert p.returncode == 0
    out = p.stdout.splitlines()
    assert abs(float(out[0]) - 0.001) < 1e-15     # five rounds of X %*% X / sum(X) from ones
    assert out[1] == "SystemDS Statistics:"
    assert out[2].startswith("Total execution time:")
    assert "Heavy hitter instructions:" in out
    rows = {line.split()[1]: int(line.split()[3]) for line in out[out.index("Heavy hitter instructions:") + 2:]}
    assert rows["%*%"] == 5 and rows["sum"] == 6 and rows["/"] == 5


def test_script_from_piped_stdin():
    p = dmlpy(stdin="print(6 * 7)\n")
    assert (p.returncode, p.stdout) == (0, "42\n")


def test_python_m_dmlpy_equals_console_script():
    import shutil
    exe = shutil.which("dmlpy")
    if exe is None:
        pytest.skip("dmlpy is not installed as a console script")
    p = subprocess.run([exe, "-c", "print(1 + 1)"], capture_output=True, text=True)
    assert (p.returncode, p.stdout) == (0, "2\n")
