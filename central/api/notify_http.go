package api

import (
	"html/template"
)

// maxNotificationBody bounds an agency request: about 2 M listed citizens as NDJSON.
const maxNotificationBody = 256 << 20

var StatsPage = template.Must(template.New("stats").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>알리미 발송 현황</title>
<style>body{font-family:sans-serif;font-size:18px;margin:1.5em;color:#111}table{border-collapse:collapse}
th,td{border:1px solid #888;padding:.3em .6em;text-align:right}th{background:#eee}td.l{text-align:left}</style></head>
<body><h1>알리미 발송 현황</h1>
<table><tr><th>알림 유형</th><th>채널</th><th>구독자</th><th>발송</th><th>전달</th><th>실패</th><th>대체 발송(문자)</th><th>재시도</th><th>보류(DLQ)</th></tr>
{{range .}}<tr><td class="l">{{.Type}}</td><td class="l">{{.Channel}}</td><td>{{.M.subscribers}}</td><td>{{.M.sent}}</td><td>{{.M.delivered}}</td><td>{{.M.failed}}</td><td>{{.M.fellBack}}</td><td>{{.M.retried}}</td><td>{{.M.deadLetter}}</td></tr>
{{end}}</table></body></html>`))
