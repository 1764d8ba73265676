/** The standing questions the benchmarks ask: one of each kind a stage monitor is asked. */
export const BENCH_QUESTIONS = [
  'Is there a flute sound?',
  'How many instruments are sounding in the video?',
  'Is the violin on the left louder than the cello on the right?',
  'What is the first instrument that comes in?',
];
