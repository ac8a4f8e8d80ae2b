// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node.js 20 lacks (it
// arrived in Node 22). Polyfilled once here, at the entry of every process that runs the
// local cloud, instead of anywhere inside it.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
export {};
