"""The annual restore test: restore every asset's latest backup into scratch space, check
the data against what was recorded at backup time, tear the scratch space down, report."""
