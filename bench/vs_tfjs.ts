// `--vs tfjs`: resnet18a's training step through TensorFlow.js's webgpu backend, for a speed-up.
// TensorFlow.js is imported here only, dynamically, when the flag asks for it; never by the library.
// How it runs in Deno: the full tfjs package (tfjs-core alone has no gradients) plus
// tfjs-backend-webgpu, `await tf.setBackend("webgpu")`, `await t.data()` (dataSync needs a canvas),
// and no op with more than 8 storage inputs (tfjs never raises that limit: no tf.addN).

// Kept in variables so that type-checking and ordinary runs never fetch the packages.
const TFJS = "npm:@tensorflow/tfjs@4.22.0";
const TFJS_WEBGPU = "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";

// deno-lint-ignore no-explicit-any
type Tf = any;
// deno-lint-ignore no-explicit-any
type TfTensor = any;

/** What {@linkcode benchTfjs} measured. */
export interface TfjsResult {
  backend: string;
  batch: number;
  /** Wall ms of each timed training step (after one warm-up step). */
  samples: number[];
  ms: number;
}

interface Net {
  vars: Map<string, TfTensor>;
  forward: (x: TfTensor) => TfTensor;
}

/** resnet18a (docs/recipes.md) in NHWC, tfjs's native layout, with torch.nn's default init bounds. */
function resnet18a(tf: Tf): Net {
  const vars = new Map<string, TfTensor>();
  let seed = 1;
  const uniform = (shape: number[], bound: number) =>
    tf.variable(tf.randomUniform(shape, -bound, bound, "float32", seed++));
  const conv = (name: string, r: number, cin: number, cout: number) => {
    vars.set(name, uniform([r, r, cin, cout], 1 / Math.sqrt(cin * r * r)));
  };
  const bn = (name: string, c: number) => {
    vars.set(`${name}.weight`, tf.variable(tf.ones([c])));
    vars.set(`${name}.bias`, tf.variable(tf.zeros([c])));
  };
  const v = (name: string) => vars.get(name)!;
  const applyBn = (x: TfTensor, name: string) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.batchNorm(x, mean, variance, v(`${name}.bias`), v(`${name}.weight`), 1e-5);
  };
  const conv2d = (x: TfTensor, name: string, stride: number, pad: number) =>
    tf.conv2d(x, v(name), stride, pad === 0 ? "valid" : [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
  conv("conv1", 3, 3, 64);
  bn("bn1", 64);
  const blocks: { name: string; stride: number; down: boolean }[] = [];
  let cin = 64;
  [64, 128, 256, 512].forEach((c, l) => {
    for (let b = 0; b < 2; b++) {
      const stride = l > 0 && b === 0 ? 2 : 1;
      const name = `layer${l + 1}.${b}`;
      const down = stride !== 1 || cin !== c;
      conv(`${name}.conv1`, 3, cin, c);
      bn(`${name}.bn1`, c);
      conv(`${name}.conv2`, 3, c, c);
      bn(`${name}.bn2`, c);
      if (down) {
        conv(`${name}.downsample.0`, 1, cin, c);
        bn(`${name}.downsample.1`, c);
      }
      blocks.push({ name, stride, down });
      cin = c;
    }
  });
  vars.set("fc.weight", uniform([512, 10], 1 / Math.sqrt(512)));
  vars.set("fc.bias", uniform([10], 1 / Math.sqrt(512)));
  const forward = (x: TfTensor) => {
    let h = tf.relu(applyBn(conv2d(x, "conv1", 1, 1), "bn1"));
    for (const { name, stride, down } of blocks) {
      const a = tf.relu(applyBn(conv2d(h, `${name}.conv1`, stride, 1), `${name}.bn1`));
      const body = applyBn(conv2d(a, `${name}.conv2`, 1, 1), `${name}.bn2`);
      const short = down
        ? applyBn(conv2d(h, `${name}.downsample.0`, stride, 0), `${name}.downsample.1`)
        : h;
      h = tf.relu(tf.add(body, short));
    }
    return tf.add(tf.matMul(tf.mean(h, [1, 2]), v("fc.weight")), v("fc.bias"));
  };
  return { vars, forward };
}

/**
 * Loads TensorFlow.js with its webgpu backend and times resnet18a's training step at `batch`:
 * forward (batch statistics), softmax cross-entropy, gradients of every variable, and SGD as
 * PyTorch's (momentum 0.9, Nesterov, weight decay 5e-4), synchronised by reading one weight back.
 * One warm-up step, then `runs` timed steps (tfjs is very slow on software adapters).
 */
export async function benchTfjs(options: { batch: number; runs?: number }): Promise<TfjsResult> {
  const tf: Tf = await import(TFJS);
  await import(TFJS_WEBGPU);
  if (!(await tf.setBackend("webgpu"))) {
    throw new Error("TensorFlow.js could not start its webgpu backend on this adapter");
  }
  await tf.ready();
  const B = options.batch;
  const net = resnet18a(tf);
  const momenta = new Map<string, TfTensor>();
  for (const [name, w] of net.vars) momenta.set(name, tf.variable(tf.zerosLike(w)));
  const x = tf.randomNormal([B, 32, 32, 3], 0, 1, "float32", 7);
  const labels = tf.oneHot(
    tf.tensor1d(Array.from({ length: B }, (_, i) => (i * 3) % 10), "int32"),
    10,
  );
  const [lr, mu, wd] = [0.08, 0.9, 5e-4];
  const step = async () => {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(labels, net.forward(x)),
        [...net.vars.values()],
      );
      for (const [name, w] of net.vars) {
        const d = tf.add(grads[w.name], tf.mul(w, wd));
        const m = momenta.get(name)!;
        const mNew = tf.add(tf.mul(m, mu), d);
        m.assign(mNew);
        w.assign(tf.sub(w, tf.mul(tf.add(d, tf.mul(mNew, mu)), lr)));
      }
    });
    await net.vars.get("fc.bias")!.data();
  };
  await step();
  const samples: number[] = [];
  for (let i = 0; i < (options.runs ?? 1); i++) {
    const t0 = performance.now();
    await step();
    samples.push(performance.now() - t0);
  }
  const backend = tf.getBackend();
  for (const t of [x, labels, ...net.vars.values(), ...momenta.values()]) t.dispose();
  samples.sort((a, b) => a - b);
  return { backend, batch: B, samples, ms: samples[samples.length >> 1] };
}
