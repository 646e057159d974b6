/* SPDX-License-Identifier: MIT */
/* placeholder until written */
#include "core/core.h"
