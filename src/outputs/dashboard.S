/* dashboard.S - the web dashboard, embedded as bytes: kp_dashboard_html ..
 * kp_dashboard_html_end. KP_DASHBOARD_HTML is the built page (the Makefile
 * makes it from src/outputs/dashboard.html with the charting library inlined). */
	.section .rodata
	.global kp_dashboard_html
	.global kp_dashboard_html_end
kp_dashboard_html:
	.incbin KP_DASHBOARD_HTML
kp_dashboard_html_end:
	.section .note.GNU-stack, "", @progbits
