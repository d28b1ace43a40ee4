"""Peak memory of this process for the bench scripts.

`getrusage(RUSAGE_SELF).ru_maxrss` is no good for a measured subprocess on Linux: exec keeps
the maximum of the address space it replaced, so a child forked from a parent that had grown
to 500 MB (after seeding, say) reports at least 500 MB whatever it does itself. `VmHWM` in
/proc/self/status is the high-water mark of the current address space only.
"""


def peak_mb() -> float:
    """The resident-set high-water mark of this process since its exec, in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("VmHWM not found in /proc/self/status")
