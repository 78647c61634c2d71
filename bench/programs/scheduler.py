"""An object-heavy cooperative scheduler, in the spirit of Richards.

A kernel holds tasks of several classes: a source that makes jobs, workers
that transform them, devices that "complete" them after a delay measured in
clock ticks, and an idle task that advances the clock.  Tasks exchange
Message objects through linked mailboxes; the kernel always runs the
highest-priority runnable task.  The work is method calls, attribute access,
small-object allocation and polymorphic dispatch.

Written for libscalenecore's overhead benchmark.  Prints on stdout
BENCH_WORK_SECONDS <wall seconds spent in the workload> and
BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import sys
import time

ROUNDS = 250_000

KIND_JOB = 0
KIND_IO = 1
KIND_DONE = 2


class Message:
    __slots__ = ("next", "origin", "worker", "kind", "payload", "hops")

    def __init__(self, origin, kind, payload):
        self.next = None
        self.origin = origin
        self.worker = None
        self.kind = kind
        self.payload = payload
        self.hops = 0


class Mailbox:
    __slots__ = ("head", "tail", "count")

    def __init__(self):
        self.head = None
        self.tail = None
        self.count = 0

    def put(self, msg):
        msg.next = None
        if self.tail is None:
            self.head = self.tail = msg
        else:
            self.tail.next = msg
            self.tail = msg
        self.count += 1

    def take(self):
        msg = self.head
        if msg is not None:
            self.head = msg.next
            if self.head is None:
                self.tail = None
            msg.next = None
            self.count -= 1
        return msg

    def __bool__(self):
        return self.head is not None


class Task:
    def __init__(self, kernel, name, priority):
        self.kernel = kernel
        self.name = name
        self.priority = priority
        self.inbox = Mailbox()
        self.runs = 0

    def runnable(self):
        return bool(self.inbox)

    def step(self):
        raise NotImplementedError

    def send(self, target, msg):
        msg.hops += 1
        target.inbox.put(msg)


class Source(Task):
    def __init__(self, kernel, name, priority, budget):
        super().__init__(kernel, name, priority)
        self.workers = []
        self.budget = budget
        self.turn = 0
        self.made = 0
        self.in_flight = 0

    def runnable(self):
        return bool(self.inbox) or (self.budget > 0 and self.in_flight < 8)

    def step(self):
        kernel = self.kernel
        done = self.inbox.take()
        if done is not None:
            self.in_flight -= 1
            kernel.completed += 1
            p = done.payload
            kernel.checksum = (kernel.checksum * 31 + p[0] + p[1] + p[2]
                               + p[3] + done.hops) & 0xFFFFFFF
            kernel.recycle(done)
        if self.budget > 0 and self.in_flight < 8:
            self.budget -= 1
            self.made += 1
            self.in_flight += 1
            worker = self.workers[self.turn]
            self.turn = (self.turn + 1) % len(self.workers)
            msg = kernel.new_message(self, KIND_JOB, [self.made, 1, 2, 3])
            self.send(worker, msg)


class Worker(Task):
    def __init__(self, kernel, name, priority, device):
        super().__init__(kernel, name, priority)
        self.device = device
        self.acc = 7

    def step(self):
        msg = self.inbox.take()
        if msg.kind == KIND_JOB:
            data = msg.payload
            a = self.acc
            for k in range(4):
                a = (a * 1103515245 + 12345 + data[k]) & 0x7FFFFFFF
                data[k] = (data[k] + (a >> 16)) & 0xFFFF
            self.acc = a
            msg.kind = KIND_IO
            msg.worker = self
            self.send(self.device, msg)
        else:
            msg.kind = KIND_DONE
            self.send(msg.origin, msg)


class Device(Task):
    def __init__(self, kernel, name, priority, delay):
        super().__init__(kernel, name, priority)
        self.delay = delay
        self.pending = []

    def runnable(self):
        if self.inbox:
            return True
        return bool(self.pending) and self.pending[0][0] <= self.kernel.clock

    def step(self):
        msg = self.inbox.take()
        if msg is not None:
            self.pending.append((self.kernel.clock + self.delay, msg))
            return
        _, ready = self.pending.pop(0)
        self.send(ready.worker, ready)


class Idle(Task):
    def runnable(self):
        return True

    def step(self):
        self.kernel.clock += 1


class Kernel:
    def __init__(self):
        self.tasks = []
        self.clock = 0
        self.completed = 0
        self.checksum = 0
        self.free = []
        self.switches = 0

    def add(self, task):
        self.tasks.append(task)
        self.tasks.sort(key=lambda t: -t.priority)
        return task

    def new_message(self, origin, kind, payload):
        if self.free:
            msg = self.free.pop()
            msg.origin = origin
            msg.worker = None
            msg.kind = kind
            msg.payload = payload
            msg.hops = 0
            return msg
        return Message(origin, kind, payload)

    def recycle(self, msg):
        msg.payload = None
        self.free.append(msg)

    def pick(self):
        for task in self.tasks:
            if task.runnable():
                return task
        return None

    def busy(self):
        for task in self.tasks:
            if isinstance(task, Idle):
                continue
            if task.inbox or getattr(task, "pending", None):
                return True
            if isinstance(task, Source) and task.budget > 0:
                return True
        return False

    def run(self):
        while True:
            task = self.pick()
            if isinstance(task, Idle) and not self.busy():
                break
            task.runs += 1
            self.switches += 1
            task.step()


def build(rounds):
    kernel = Kernel()
    devices = [kernel.add(Device(kernel, f"dev{i}", 40 + i, 1 + i))
               for i in range(2)]
    source = kernel.add(Source(kernel, "source", 10, rounds))
    for i in range(3):
        source.workers.append(
            kernel.add(Worker(kernel, f"worker{i}", 20 + i, devices[i % 2])))
    kernel.add(Idle(kernel, "idle", 0))
    return kernel


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    kernel = build(ROUNDS)
    kernel.run()
    t1 = time.perf_counter()
    c1 = time.process_time()
    print(f"scheduler: {kernel.completed} jobs, {kernel.switches} switches, "
          f"clock {kernel.clock}, checksum {kernel.checksum}", file=sys.stderr)
    if kernel.completed != ROUNDS:
        raise SystemExit(f"scheduler lost jobs: {kernel.completed} != {ROUNDS}")
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
