// Umbrella header: everything an embedding program needs.
#pragma once

#include <ictcore/core.hpp>
#include <ictcore/error.hpp>
#include <ictcore/json.hpp>
#include <ictcore/version.hpp>
