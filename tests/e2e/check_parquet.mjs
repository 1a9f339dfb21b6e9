// Reads mlpio's parquet files with hyparquet, a reader mlpio did not write, and checks them:
// the schema (column names, physical and logical types, fixed-size lists), the row count and
// row groups, and that every value hyparquet decodes equals the value stored at the place mlpio
// put it (the last bytes of each single-page column chunk, before the padding of dictionary
// indices), so that the bytes mlpio verifies are the values a framework gets.
//
//   node check_parquet.mjs check COLUMNS ROWS ROW_GROUP FILE...   COLUMNS as mlpio's
//       dataset.parquet.columns once scaled (name:dtype:count, with :list for a list scaled down
//       to one element), or "data:uint8:N" for the layout without columns
//   node check_parquet.mjs write FILE    a file of another schema, written by hyparquet-writer
import { readFileSync, writeFileSync } from 'node:fs'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'

const widths = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, uint64: 8,
  int64: 8, float16: 2, float32: 4, float64: 8 }
const physical = { uint8: 'INT32', int8: 'INT32', uint16: 'INT32', int16: 'INT32',
  uint32: 'INT32', int32: 'INT32', uint64: 'INT64', int64: 'INT64',
  float16: 'FIXED_LEN_BYTE_ARRAY', float32: 'FLOAT', float64: 'DOUBLE' }
const dictionary = { uint8: true, int8: true, uint16: true, int16: true }

function half(bits) {
  const s = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 0x1f, m = bits & 0x3ff
  if (e === 0) return s * m * 2 ** -24
  if (e === 31) return m ? NaN : s * Infinity
  return s * (1 + m / 1024) * 2 ** (e - 15)
}

function decode(dv, off, dtype) {
  switch (dtype) {
    case 'uint8': return dv.getUint8(off)
    case 'int8': return dv.getInt8(off)
    case 'uint16': return dv.getUint16(off, true)
    case 'int16': return dv.getInt16(off, true)
    case 'uint32': return dv.getUint32(off, true)
    case 'int32': return dv.getInt32(off, true)
    case 'uint64': return dv.getBigUint64(off, true)
    case 'int64': return dv.getBigInt64(off, true)
    case 'float16': return half(dv.getUint16(off, true))
    case 'float32': return dv.getFloat32(off, true)
    case 'float64': return dv.getFloat64(off, true)
  }
  throw new Error('unknown dtype ' + dtype)
}

function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a)) return Number.isNaN(b)
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a) === BigInt(b)
  return Object.is(a, b)
}

function fail(file, what) {
  console.log(`FAIL ${file}: ${what}`)
  process.exit(1)
}

async function check(file, columns, rows, groupRows) {
  const data = readFileSync(file)
  const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
  const dv = new DataView(buf)
  const meta = parquetMetadata(buf)
  if (Number(meta.num_rows) !== rows) fail(file, `${meta.num_rows} rows, expected ${rows}`)
  const groups = Math.ceil(rows / groupRows)
  if (meta.row_groups.length !== groups)
    fail(file, `${meta.row_groups.length} row groups, expected ${groups}`)
  meta.row_groups.forEach((g, i) => {
    const want = i + 1 < groups ? groupRows : rows - i * groupRows
    if (Number(g.num_rows) !== want) fail(file, `row group ${i} has ${g.num_rows} rows, not ${want}`)
  })
  // The schema: root, then each column a required leaf or a required three-level LIST.
  const schema = meta.schema
  let at = 1
  for (const c of columns) {
    const e = schema[at]
    if (!e || e.name !== c.name) fail(file, `schema element ${at} is ${e && e.name}, not ${c.name}`)
    if (e.repetition_type !== 'REQUIRED') fail(file, `${c.name} is ${e.repetition_type}`)
    let leaf = e
    if (c.list) {
      if (e.converted_type !== 'LIST' || schema[at + 1].repetition_type !== 'REPEATED')
        fail(file, `${c.name} is not a LIST`)
      leaf = schema[at + 2]
      at += 3
    } else {
      at += 1
    }
    if (leaf.type !== physical[c.dtype]) fail(file, `${c.name} is ${leaf.type}, not ${physical[c.dtype]}`)
    const lt = leaf.logical_type
    if (c.dtype === 'float16' && lt?.type !== 'FLOAT16') fail(file, `${c.name} lacks FLOAT16`)
    if (/int(8|16)$/.test(c.dtype) && (lt?.type !== 'INTEGER' ||
        lt.bitWidth !== 8 * widths[c.dtype] || lt.isSigned !== !c.dtype.startsWith('u')))
      fail(file, `${c.name} has logical type ${JSON.stringify(lt)}`)
  }
  if (at !== schema.length) fail(file, `${schema.length - at} schema elements too many`)
  const rowsRead = await parquetReadObjects({ file: buf })
  if (rowsRead.length !== rows) fail(file, `hyparquet read ${rowsRead.length} rows`)
  let values = 0
  meta.row_groups.forEach((g, gi) => {
    const first = gi * groupRows, n = Number(g.num_rows)
    columns.forEach((c, ci) => {
      const m = g.columns[ci].meta_data
      const w = widths[c.dtype], v = n * c.count
      if (m.codec !== 'UNCOMPRESSED') fail(file, `${c.name} is ${m.codec}`)
      if (Number(m.num_values) !== v) fail(file, `${c.name}: ${m.num_values} values, not ${v}`)
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset)
      const end = start + Number(m.total_compressed_size)
      if (m.total_compressed_size > 1 << 21) fail(file, `${c.name}: chunks above 2 MiB are not checked`)
      const pad = dictionary[c.dtype] ? (Math.ceil(v / 8) * 8 - v) * w : 0
      const base = end - pad - v * w
      for (let r = 0; r < n; r++) {
        const got = rowsRead[first + r][c.name]
        const list = c.list ? Array.from(got) : [got]
        if (list.length !== c.count) fail(file, `${c.name} row ${first + r}: ${list.length} values`)
        for (let k = 0; k < c.count; k++) {
          const want = decode(dv, base + (r * c.count + k) * w, c.dtype)
          if (!same(want, list[k]))
            fail(file, `${c.name} row ${first + r} value ${k}: hyparquet ${list[k]}, file ${want}`)
          values++
        }
      }
    })
  })
  console.log(`ok ${file}: ${rows} rows, ${groups} row groups, ${columns.length} columns, ${values} values`)
}

const [cmd, ...args] = process.argv.slice(2)
if (cmd === 'write') {
  const { parquetWriteBuffer } = await import('hyparquet-writer')
  const out = parquetWriteBuffer({ columnData: [
    { name: 'label', data: new Int32Array([1, 2, 3, 4]), type: 'INT32' },
    { name: 'caption', data: ['a', 'b', 'c', 'd'], type: 'STRING' },
  ] })
  writeFileSync(args[0], Buffer.from(out))
} else if (cmd === 'check') {
  const [spec, rows, groupRows, ...files] = args
  const columns = spec.split(',').map((s) => {
    const [name, dtype, count = '1', list] = s.split(':')
    return { name, dtype, count: Number(count), list: list === 'list' || Number(count) > 1 }
  })
  for (const f of files) await check(f, columns, Number(rows), Number(groupRows))
} else {
  console.error('usage: check_parquet.mjs check COLUMNS ROWS ROW_GROUP FILE... | write FILE')
  process.exit(2)
}
