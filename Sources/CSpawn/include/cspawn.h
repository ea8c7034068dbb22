#ifndef FETCHQ_CSPAWN_H
#define FETCHQ_CSPAWN_H

#include <spawn.h>

// The calls the Spawn module needs that Swift's Glibc module does not show: glibc declares
// `posix_spawn_file_actions_addclosefrom_np` and `pipe2` only under _GNU_SOURCE, and `prctl` is
// C-variadic. Each returns 0 on success and an errno value on failure.

/// Adds "close every descriptor from `lowest` up" to `actions`. Uses glibc's closefrom action
/// (2.34 and later); on an older glibc, adds one close action per descriptor listed in
/// /proc/self/fd at the time of the call.
int fetchq_spawn_add_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// `pipe2(descriptors, O_CLOEXEC)`: a pipe whose two ends are closed in any program this process
/// executes, so no child started meanwhile inherits them.
int fetchq_spawn_pipe(int descriptors[2]);

/// `prctl(PR_SET_PDEATHSIG, signal)`: the calling process receives `signal` when the thread that
/// created it ends.
int fetchq_spawn_set_parent_death_signal(int signal);

#endif
