#ifndef FETCHQ_CMICROHTTPD_SHIM_H
#define FETCHQ_CMICROHTTPD_SHIM_H

#include <sys/socket.h>
#include <microhttpd.h>

// MHD_start_daemon and MHD_get_daemon_info are C-variadic, which Swift cannot call. These two
// fixed-signature wrappers are the only C code in the project.

/// Starts a daemon bound to `address` with the options fetchq uses. A limit of 0 means "default".
static inline struct MHD_Daemon *fetchq_mhd_start(
    unsigned int flags, const struct sockaddr *address, MHD_AccessHandlerCallback handler, void *handler_context,
    MHD_RequestCompletedCallback completed, unsigned int thread_pool_size, unsigned int connection_timeout_seconds,
    unsigned int connection_limit, unsigned int per_ip_connection_limit, size_t connection_memory_limit) {
    return MHD_start_daemon(
        flags, 0, NULL, NULL, handler, handler_context,
        MHD_OPTION_SOCK_ADDR, address,
        MHD_OPTION_NOTIFY_COMPLETED, completed, handler_context,
        MHD_OPTION_THREAD_POOL_SIZE, thread_pool_size,
        MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip_connection_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, connection_memory_limit,
        MHD_OPTION_END);
}

/// The port the daemon listens on (useful after binding port 0); 0 if unknown.
static inline unsigned int fetchq_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

#endif
