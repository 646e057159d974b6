/* SPDX-License-Identifier: MIT */
#ifndef TDNS_NET_H
#define TDNS_NET_H
#endif
