package allimi

import "time"

// KST is Korea Standard Time; Korea keeps no daylight saving.
var KST = time.FixedZone("KST", 9*3600)
