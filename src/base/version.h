/* version.h - the one place the version string lives. */
#ifndef KPULSE_VERSION_H
#define KPULSE_VERSION_H
#define KPULSE_VERSION "0.1.0"
#endif
