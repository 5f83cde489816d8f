/**
 * The error a {@link FaultInjector} throws in place of a call: like a network failure or a
 * crash at that exact point.
 */
export class InjectedFault extends Error {
  /** The name the port was wrapped with. */
  readonly port: string;
  /** The method whose call failed. */
  readonly method: string;
  /** The 1-based number of the failed call among all calls counted by the injector. */
  readonly call: number;

  constructor(port: string, method: string, call: number) {
    super(`injected fault at call ${call}: ${port}.${method}`);
    this.name = "InjectedFault";
    this.port = port;
    this.method = method;
    this.call = call;
  }
}

/** Counts the calls on wrapped ports and fails the one numbered {@link FaultInjector.failAt}. */
export interface FaultInjector {
  /**
   * Wraps a port (any object whose methods return a Promise or an AsyncIterable): every method
   * call counts; the call numbered `failAt` fails with {@link InjectedFault} without reaching
   * the port. Other calls, and their results, pass through unchanged.
   */
  wrap<T extends object>(name: string, port: T): T;
  /** Method calls counted so far, over every wrapped port. Set it to 0 to start over. */
  calls: number;
  /** The 1-based call number to fail; `undefined` fails nothing (to count a run's calls). */
  failAt: number | undefined;
  /** `port.method` of every counted call, in order. */
  readonly log: string[];
}

/**
 * What a failing call returns: a rejected promise that is also an async iterable failing on
 * its first `next()`, so a call fails the same way whether its method returns a Promise or an
 * AsyncIterable (like a stream that breaks before its first byte).
 */
function failure(fault: InjectedFault): Promise<never> & AsyncIterable<never> {
  const rejected = Promise.reject(fault);
  // Only iterated, never awaited: the rejection is still reported through next().
  rejected.catch(() => undefined);
  const iterator: AsyncIterator<never> = {
    next: () => Promise.reject(fault),
    return: () => Promise.resolve({ done: true, value: undefined }),
  };
  return Object.assign(rejected, { [Symbol.asyncIterator]: () => iterator });
}

/**
 * Creates a fault injector: wrap the ports of a run with it, run once with `failAt` unset to
 * count the calls, then run again with every `failAt` from 1 to that count to check the work
 * survives a failure at each point.
 *
 * @example
 * const faults = createFaultInjector();
 * const store = faults.wrap("objects", createMemoryObjectStore());
 * faults.failAt = 2;
 * await store.head("a"); // call 1: passes
 * await store.head("a"); // call 2: throws InjectedFault
 */
export function createFaultInjector(options: { readonly failAt?: number | undefined } = {}): FaultInjector {
  const injector: FaultInjector = {
    calls: 0,
    failAt: options.failAt,
    log: [],
    wrap<T extends object>(name: string, port: T): T {
      const wrapped = new WeakMap<object, unknown>();
      return new Proxy(port, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (typeof value !== "function" || typeof property === "symbol") return value;
          const original = value as (...args: unknown[]) => unknown;
          let method = wrapped.get(original);
          if (method === undefined) {
            method = (...args: unknown[]): unknown => {
              injector.calls += 1;
              const call = injector.calls;
              injector.log.push(`${name}.${property}`);
              if (call === injector.failAt) return failure(new InjectedFault(name, property, call));
              // Called on the port itself, so methods using private fields keep working.
              return original.apply(target, args);
            };
            wrapped.set(original, method);
          }
          return method;
        },
      });
    },
  };
  return injector;
}
