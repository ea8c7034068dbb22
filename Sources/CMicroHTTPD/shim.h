#ifndef FETCHQ_CMICROHTTPD_SHIM_H
#define FETCHQ_CMICROHTTPD_SHIM_H

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

// MHD_start_daemon, MHD_get_daemon_info and MHD_get_connection_info are C-variadic, which Swift
// cannot call. These fixed-signature wrappers, and the socket helpers beside them, are the only C
// code in the project.

/// libmicrohttpd's error log, less its line per connection a client (or a deadline) ended: those
/// are counted in the metrics, and an attack would otherwise write thousands of them.
static inline void fetchq_mhd_log(void *context, const char *format, va_list arguments) {
    (void)context;
    if (strstr(format, "closed") != NULL || strstr(format, "closure") != NULL) return;
    vfprintf(stderr, format, arguments);
}

/// Starts a daemon bound to `host` (an IPv4 or IPv6 literal, brackets allowed) and `port` with the
/// options fetchq uses; sets `*bad_host` and answers NULL when `host` is neither. A limit of 0
/// means "default".
static inline struct MHD_Daemon *fetchq_mhd_start(
    unsigned int flags, const char *host, unsigned short port, int *bad_host, MHD_AccessHandlerCallback handler,
    void *handler_context, MHD_RequestCompletedCallback completed, MHD_NotifyConnectionCallback notify,
    MHD_AcceptPolicyCallback admit, unsigned int thread_pool_size, unsigned int connection_timeout_seconds,
    unsigned int connection_limit, unsigned int per_ip_connection_limit, size_t connection_memory_limit) {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    const struct sockaddr *address;
    char literal[INET6_ADDRSTRLEN + 2];
    size_t length = strlen(host);
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    *bad_host = 0;
    if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        address = (const struct sockaddr *)&v4;
    } else {
        if (length >= 2 && host[0] == '[' && host[length - 1] == ']' && length - 2 < sizeof literal) {
            memcpy(literal, host + 1, length - 2);
            literal[length - 2] = 0;
        } else if (length < sizeof literal) {
            memcpy(literal, host, length + 1);
        } else {
            literal[0] = 0;
        }
        if (inet_pton(AF_INET6, literal, &v6.sin6_addr) != 1) {
            *bad_host = 1;
            return NULL;
        }
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        address = (const struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    }
    return MHD_start_daemon(
        flags, 0, admit, handler_context, handler, handler_context,
        MHD_OPTION_SOCK_ADDR, address,
        MHD_OPTION_EXTERNAL_LOGGER, fetchq_mhd_log, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, completed, handler_context,
        MHD_OPTION_NOTIFY_CONNECTION, notify, handler_context,
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

/// Writes `address` as text (`127.0.0.1`, `::1`) into `out`, of `size` bytes; "" if it is neither
/// IPv4 nor IPv6. An IPv4-mapped IPv6 address is written as the IPv4 address inside.
static inline void fetchq_format_address(const struct sockaddr *address, char *out, size_t size) {
    if (size == 0) return;
    out[0] = 0;
    if (address == NULL) return;
    if (address->sa_family == AF_INET) {
        (void)inet_ntop(AF_INET, &((const struct sockaddr_in *)address)->sin_addr, out, size);
    } else if (address->sa_family == AF_INET6) {
        const struct in6_addr *v6 = &((const struct sockaddr_in6 *)address)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(v6)) {
            (void)inet_ntop(AF_INET, &v6->s6_addr[12], out, size);
        } else {
            (void)inet_ntop(AF_INET6, v6, out, size);
        }
    }
}

/// The socket of `connection`, or -1.
static inline int fetchq_mhd_connection_socket(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

/// Writes the client address of `connection` as text into `out` (see fetchq_format_address).
static inline void fetchq_mhd_connection_address(struct MHD_Connection *connection, char *out, size_t size) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    fetchq_format_address(info ? info->client_addr : NULL, out, size);
}

/// Ends a connection from outside libmicrohttpd's threads without closing its descriptor (which
/// stays libmicrohttpd's): sends `reply` if the socket takes it at once, without waiting, then shuts
/// the socket down both ways. libmicrohttpd then sees the connection end and cleans it up itself.
static inline void fetchq_cut_socket(int socket, const char *reply, size_t length) {
    if (length > 0) (void)send(socket, reply, length, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)shutdown(socket, SHUT_RDWR);
}

#endif
