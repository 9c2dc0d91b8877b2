/* dashboard.S - the web dashboard (src/outputs/dashboard.html), embedded as bytes:
 * kp_dashboard_html .. kp_dashboard_html_end. */
	.section .rodata
	.global kp_dashboard_html
	.global kp_dashboard_html_end
kp_dashboard_html:
	.incbin "src/outputs/dashboard.html"
kp_dashboard_html_end:
	.section .note.GNU-stack, "", @progbits
