// Bench-only copy kernel for the bandwidth ceiling: y = x, four words per invocation, one vec4
// load and one vec4 store each; the grid may span x and y (see engine/grid.ts).
// Legend: n4 number of vec4 elements.

override WG: u32 = 256u;

struct Params {
  n4: u32, // vec4 elements to copy
}

@group(0) @binding(0) var<storage, read> x: array<vec4<u32>>;       // [n4]
@group(0) @binding(1) var<storage, read_write> y: array<vec4<u32>>; // [n4]
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn copyVec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i < p.n4) { y[i] = x[i]; }
}
