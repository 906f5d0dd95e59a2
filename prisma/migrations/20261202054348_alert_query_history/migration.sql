-- CreateTable
CREATE TABLE "AlertQueryHistory" (
    "queryId" UUID NOT NULL,
    "state" JSONB NOT NULL,
    "savedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AlertQueryHistory_pkey" PRIMARY KEY ("queryId")
);
