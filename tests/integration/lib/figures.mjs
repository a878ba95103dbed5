// What the weak-link tests measure in a series of samples ({t: seconds, frames: frames
// decoded so far, ...}) taken from a page's getStats every few hundred ms.

// Frames decoded per second: the median over 1 s windows of samples.
export function fpsMedian(samples) {
  const rates = [];
  for (let i = 0; i < samples.length; i++) {
    const j = samples.findIndex((s) => s.t >= samples[i].t + 1);
    if (j < 0) break;
    rates.push((samples[j].frames - samples[i].frames) / (samples[j].t - samples[i].t));
  }
  rates.sort((a, b) => a - b);
  return rates.length ? rates[Math.floor(rates.length / 2)] : 0;
}
