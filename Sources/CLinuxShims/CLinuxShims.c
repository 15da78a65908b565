#define _GNU_SOURCE
#include <spawn.h>
#include "CLinuxShims.h"

_Static_assert(SHARDVAULT_POSIX_SPAWN_SETSID == POSIX_SPAWN_SETSID, "POSIX_SPAWN_SETSID differs from glibc's");
