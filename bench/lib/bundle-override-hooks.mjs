// Module resolution hooks of bundle-override.mjs (they run on Node's loader thread).
let target;

export function initialize(data) {
  target = data.url;
}

export async function resolve(specifier, context, next) {
  if (specifier === '@swarm/bundle') return { url: target, shortCircuit: true };
  return next(specifier, context);
}
