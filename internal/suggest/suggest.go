package suggest

// Distance is the optimal string alignment distance of a and b (Levenshtein
// with adjacent transpositions) over bytes. It is meant for short words
// (keys, names, keywords); any length works.
func Distance(a, b string) int {
	var buf [3][66]int
	rows := [3][]int{buf[0][:], buf[1][:], buf[2][:]}
	if len(b)+1 > len(buf[0]) {
		for i := range rows {
			rows[i] = make([]int, len(b)+1)
		}
	}
	prev2, prev, cur := rows[0], rows[1], rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
