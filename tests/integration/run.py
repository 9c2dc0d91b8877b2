"""Runs every integration test, then checks nothing of kpulse's is left
(BPF programs, test cgroups), and prints 'N passed, N failed'."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    if os.geteuid() != 0:
        print("integration tests need root (real BPF, real cgroups)", file=sys.stderr)
        return 77
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    suite = unittest.defaultTestLoader.discover(os.path.dirname(os.path.abspath(__file__)),
                                                pattern=pattern)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)

    # what the tests made must be gone, whatever happened in them
    leftovers = []
    base = os.path.join(harness.v2_root(), harness.TEST_PREFIX)
    if os.path.exists(base):
        leftovers.append("test cgroups remain at %s" % base)
    left = harness.wait_released(harness.OWNED)
    if left:
        leftovers.append("kpulse BPF programs still loaded: %s" % sorted(left))
    for l in leftovers:
        print("LEFTOVER: " + l)
    if leftovers:
        failed += 1
    else:
        passed += 1
    print("integration: %d passed, %d failed, %d skipped" % (passed, failed, len(result.skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
