if (!/[?&]stub=0\b/.test(location.search)) tcfCmp.install();
