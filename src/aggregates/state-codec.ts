// Serialises an aggregate's state for snapshots. The default is JSON that also round-trips
// the values JSON loses silently (BigInt, Date, undefined-free Maps are left to the user).
export interface StateCodec<State> {
  encode(state: State): Buffer;
  decode(bytes: Buffer): State;
}

const bigIntTag = '$scribe:bigint';
const dateTag = '$scribe:date';

/** JSON, with BigInt and Date values tagged so that they come back as what they were. */
export const jsonStateCodec: StateCodec<unknown> = {
  encode(state) {
    return Buffer.from(
      JSON.stringify(state, function (this: Record<string, unknown>, key, value: unknown) {
        // `value` of a Date has already been through toJSON: look at the original.
        const original = this[key];
        if (original instanceof Date) return { [dateTag]: original.toISOString() };
        if (typeof value === 'bigint') return { [bigIntTag]: value.toString() };
        return value;
      }),
    );
  },
  decode(bytes) {
    return JSON.parse(bytes.toString(), (_key, value: unknown) => {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const keys = Object.keys(value);
        if (keys.length === 1 && keys[0] === bigIntTag) return BigInt((value as Record<string, string>)[bigIntTag]!);
        if (keys.length === 1 && keys[0] === dateTag) return new Date((value as Record<string, string>)[dateTag]!);
      }
      return value;
    }) as unknown;
  },
};
