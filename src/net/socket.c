/* SPDX-License-Identifier: MIT */
/* The set-up that every listener socket shares (UDP in udp.c, TCP, DoT and DoH in tcp.c). */
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include "net/net.h"

int
net_socket_open(const struct sockaddr *addr, int type)
{
	int fd = socket(addr->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	int on = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0) {
		return net_socket_fail(fd);
	}
	if (addr->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) {
		return net_socket_fail(fd);
	}
	return fd;
}

int
net_socket_fail(int fd)
{
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
