#include "egress/egress.h"
