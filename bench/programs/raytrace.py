"""A small ray tracer: spheres and a plane, a point light, shadows and one
level of reflection, rendered into an in-memory grey-scale image (vector
objects with operator overloading, float math).

Written for libscalenecore's overhead benchmark.  Prints on stdout
BENCH_WORK_SECONDS <wall seconds spent in the workload> and
BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import math
import sys
import time

WIDTH = 440
HEIGHT = 330
EPS = 1e-6


class Vec:
    __slots__ = ("x", "y", "z")

    def __init__(self, x, y, z):
        self.x = x
        self.y = y
        self.z = z

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y, self.z + o.z)

    def __sub__(self, o):
        return Vec(self.x - o.x, self.y - o.y, self.z - o.z)

    def __mul__(self, k):
        return Vec(self.x * k, self.y * k, self.z * k)

    def dot(self, o):
        return self.x * o.x + self.y * o.y + self.z * o.z

    def length(self):
        return math.sqrt(self.dot(self))

    def norm(self):
        n = self.length()
        return Vec(self.x / n, self.y / n, self.z / n)


class Ray:
    __slots__ = ("origin", "direction")

    def __init__(self, origin, direction):
        self.origin = origin
        self.direction = direction

    def at(self, t):
        return self.origin + self.direction * t


class Sphere:
    def __init__(self, center, radius, shade, mirror):
        self.center = center
        self.radius = radius
        self.shade = shade
        self.mirror = mirror

    def hit(self, ray):
        oc = ray.origin - self.center
        b = oc.dot(ray.direction)
        c = oc.dot(oc) - self.radius * self.radius
        disc = b * b - c
        if disc < 0:
            return None
        root = math.sqrt(disc)
        t = -b - root
        if t > EPS:
            return t
        t = -b + root
        if t > EPS:
            return t
        return None

    def normal_at(self, p):
        return (p - self.center).norm()


class Plane:
    def __init__(self, point, normal, shade, mirror):
        self.point = point
        self.normal = normal.norm()
        self.shade = shade
        self.mirror = mirror

    def hit(self, ray):
        denom = self.normal.dot(ray.direction)
        if abs(denom) < EPS:
            return None
        t = (self.point - ray.origin).dot(self.normal) / denom
        return t if t > EPS else None

    def normal_at(self, p):
        return self.normal

    def shade_at(self, p):
        checker = (math.floor(p.x) + math.floor(p.z)) & 1
        return self.shade if checker else self.shade * 0.4


class Scene:
    def __init__(self):
        self.objects = [
            Sphere(Vec(0.0, 1.0, 5.0), 1.0, 0.9, 0.3),
            Sphere(Vec(-2.0, 0.6, 6.5), 0.6, 0.7, 0.0),
            Sphere(Vec(2.1, 0.8, 4.2), 0.8, 0.5, 0.6),
            Sphere(Vec(0.8, 0.3, 3.0), 0.3, 1.0, 0.0),
            Plane(Vec(0.0, 0.0, 0.0), Vec(0.0, 1.0, 0.0), 0.8, 0.2),
        ]
        self.light = Vec(-4.0, 6.0, -1.0)
        self.ambient = 0.08

    def nearest(self, ray):
        best_t = math.inf
        best = None
        for obj in self.objects:
            t = obj.hit(ray)
            if t is not None and t < best_t:
                best_t = t
                best = obj
        return best, best_t

    def lit(self, point):
        to_light = self.light - point
        dist = to_light.length()
        ray = Ray(point, to_light * (1.0 / dist))
        for obj in self.objects:
            t = obj.hit(ray)
            if t is not None and t < dist:
                return False
        return True

    def trace(self, ray, depth):
        obj, t = self.nearest(ray)
        if obj is None:
            return 0.15 + 0.25 * max(0.0, ray.direction.y)
        p = ray.at(t)
        n = obj.normal_at(p)
        base = obj.shade_at(p) if isinstance(obj, Plane) else obj.shade
        colour = self.ambient * base
        if self.lit(p):
            to_light = (self.light - p).norm()
            diffuse = max(0.0, n.dot(to_light))
            colour += base * diffuse
            half = (to_light - ray.direction).norm()
            colour += 0.4 * max(0.0, n.dot(half)) ** 24
        if depth > 0 and obj.mirror > 0.0:
            d = ray.direction
            reflected = d - n * (2.0 * d.dot(n))
            colour = (colour * (1.0 - obj.mirror)
                      + self.trace(Ray(p, reflected), depth - 1) * obj.mirror)
        return colour


def render(scene, width, height):
    eye = Vec(0.0, 1.5, -2.0)
    image = []
    aspect = width / height
    for j in range(height):
        row = []
        y = (1.0 - 2.0 * (j + 0.5) / height) * 0.75
        for i in range(width):
            x = (2.0 * (i + 0.5) / width - 1.0) * 0.75 * aspect
            direction = Vec(x, y - 0.2, 1.0).norm()
            v = scene.trace(Ray(eye, direction), 2)
            row.append(min(255, int(255 * v)))
        image.append(row)
    return image


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    image = render(Scene(), WIDTH, HEIGHT)
    t1 = time.perf_counter()
    c1 = time.process_time()
    total = sum(sum(row) for row in image)
    print(f"raytrace {WIDTH}x{HEIGHT}: brightness sum {total}", file=sys.stderr)
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
