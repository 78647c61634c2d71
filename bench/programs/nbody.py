"""N-body gravitational simulation of five bodies (float arithmetic on lists).

Written for libscalenecore's overhead benchmark.  Prints on stdout
BENCH_WORK_SECONDS <wall seconds spent in the workload> and
BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import sys
import time

STEPS = 360_000

PI = 3.141592653589793
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24


def make_bodies():
    # [x, y, z, vx, vy, vz, mass] per body: a sun and four outer planets.
    specs = [
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        (4.84, -1.16, -0.10, 0.00166, 0.00770, -0.0000690, 0.000954),
        (8.34, 4.12, -0.403, -0.00277, 0.00500, 0.0000230, 0.000286),
        (12.89, -15.11, -0.223, 0.00296, 0.00237, -0.0000296, 0.0000437),
        (15.38, -25.92, 0.179, 0.00268, 0.00163, -0.0000951, 0.0000515),
    ]
    bodies = []
    for x, y, z, vx, vy, vz, m in specs:
        bodies.append([x, y, z, vx * DAYS_PER_YEAR, vy * DAYS_PER_YEAR,
                       vz * DAYS_PER_YEAR, m * SOLAR_MASS])
    return bodies


def offset_momentum(bodies):
    px = py = pz = 0.0
    for b in bodies:
        px += b[3] * b[6]
        py += b[4] * b[6]
        pz += b[5] * b[6]
    sun = bodies[0]
    sun[3] = -px / SOLAR_MASS
    sun[4] = -py / SOLAR_MASS
    sun[5] = -pz / SOLAR_MASS


def pairs_of(bodies):
    out = []
    for i in range(len(bodies)):
        for j in range(i + 1, len(bodies)):
            out.append((bodies[i], bodies[j]))
    return out


def energy(bodies, pairs):
    e = 0.0
    for b in bodies:
        e += 0.5 * b[6] * (b[3] * b[3] + b[4] * b[4] + b[5] * b[5])
    for a, b in pairs:
        dx = a[0] - b[0]
        dy = a[1] - b[1]
        dz = a[2] - b[2]
        e -= a[6] * b[6] / (dx * dx + dy * dy + dz * dz) ** 0.5
    return e


def advance(bodies, pairs, dt, steps):
    for _ in range(steps):
        for a, b in pairs:
            dx = a[0] - b[0]
            dy = a[1] - b[1]
            dz = a[2] - b[2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * d2 ** 0.5)
            bm = b[6] * mag
            am = a[6] * mag
            a[3] -= dx * bm
            a[4] -= dy * bm
            a[5] -= dz * bm
            b[3] += dx * am
            b[4] += dy * am
            b[5] += dz * am
        for b in bodies:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]


def workload():
    bodies = make_bodies()
    offset_momentum(bodies)
    pairs = pairs_of(bodies)
    e0 = energy(bodies, pairs)
    advance(bodies, pairs, 0.01, STEPS)
    e1 = energy(bodies, pairs)
    return e0, e1


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    e0, e1 = workload()
    t1 = time.perf_counter()
    c1 = time.process_time()
    print(f"energy {e0:.9f} -> {e1:.9f}", file=sys.stderr)
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
