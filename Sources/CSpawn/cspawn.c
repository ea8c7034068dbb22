// Compiled apart from Swift so that _GNU_SOURCE reaches glibc's headers.
#define _GNU_SOURCE
#include "cspawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

int fetchq_spawn_add_close_from(posix_spawn_file_actions_t *actions, int lowest) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
#else
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL) return errno;
    int own = dirfd(directory);
    int result = 0;
    struct dirent *entry;
    while (result == 0 && (entry = readdir(directory)) != NULL) {
        // d_name is a NUL-terminated string inside the entry: read it as one, never past it.
        char *end = NULL;
        long descriptor = strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0') continue;  // "." and ".."
        if (descriptor < lowest || descriptor == own) continue;
        result = posix_spawn_file_actions_addclose(actions, (int)descriptor);
    }
    closedir(directory);
    return result;
#endif
}

int fetchq_spawn_pipe(int descriptors[2]) { return pipe2(descriptors, O_CLOEXEC) == 0 ? 0 : errno; }

int fetchq_spawn_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL) == 0 ? 0 : errno;
}
